import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { SEVERITIES } from '../../../src/domain/detection.js';
import { api, keys } from '../api/endpoints';
import type { Detection, Distribution, OverallMetrics, Readiness, ReadinessChecks } from '../api/types';
import { Badge } from '../components/badge';
import { StackedBars, type Bucket } from '../components/chart';
import { DurationChart } from '../components/duration-chart';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { formatDuration, Time } from '../components/time';

const DAYS = 14;
const DETECTIONS_READ = 1000;
const APPROVALS_SHOWN = 10;
const LEAST_READY_SHOWN = 6;

const SEVERITY_SERIES = [...SEVERITIES].reverse().map((s) => ({ key: s, label: s }));

function dayKey(at: string | Date): string {
  return new Date(at).toISOString().slice(0, 10);
}

function detectionsByDay(items: Detection[], since: Date): Bucket[] {
  const buckets: Bucket[] = [];
  for (let i = 0; i < DAYS; i++) {
    const day = new Date(since.getTime() + i * 86_400_000);
    buckets.push({ label: dayKey(day).slice(5), values: {} });
  }
  for (const d of items) {
    const index = Math.floor((new Date(d.detectedAt).getTime() - since.getTime()) / 86_400_000);
    const bucket = buckets[index];
    if (bucket) bucket.values[d.severity] = (bucket.values[d.severity] ?? 0) + 1;
  }
  return buckets;
}

function OpenIncidents({ metrics }: { metrics: OverallMetrics }) {
  const { open, escalated, openBySeverity } = metrics.incidents;
  return (
    <>
      <ul className="tiles" aria-label="Open incidents by severity">
        {[...SEVERITIES].reverse().map((severity) => (
          <li key={severity} className={`tile tile-${severity}`}>
            <span className="tile-number">{openBySeverity[severity] ?? 0}</span>
            <span className="tile-label">{severity}</span>
          </li>
        ))}
      </ul>
      <p>
        <Link to="/incidents?open=true">{open} open incident{open === 1 ? '' : 's'}</Link>
        {escalated ? <>, of which <Link to="/incidents?open=true&escalated=true">{escalated} escalated</Link> to dedicated response</> : null};{' '}
        {metrics.incidents.total} in all.
      </p>
    </>
  );
}

function AwaitingApproval({ count }: { count: number }) {
  const filter = { state: 'awaiting_approval', limit: APPROVALS_SHOWN };
  const query = useQuery({ queryKey: keys.actions(filter), queryFn: () => api.actions(filter) });
  return (
    <>
      <p className="big-figure"><strong>{count}</strong> step{count === 1 ? '' : 's'} awaiting approval</p>
      <Loaded query={query} what="steps awaiting approval">
        {({ items }) => items.length ? (
          <ul className="plain-list">
            {items.map((run) => (
              <li key={run.id}>
                <Link to={`/incidents/${encodeURIComponent(run.incidentId)}#run-${run.id}`}>{run.action.replace(/_/g, ' ')} → {run.targetLabel}</Link>
                <div className="muted small">
                  waiting since <Time at={run.updatedAt} />{run.approval?.timeoutAt ? <>; {run.approval.default === 'approve' ? 'approved' : 'denied'} <Time at={run.approval.timeoutAt} /> if undecided</> : null}
                </div>
              </li>
            ))}
          </ul>
        ) : <p>No step is waiting for approval.</p>}
      </Loaded>
    </>
  );
}

const TIMINGS: { key: 'timeToDetect' | 'timeToContain' | 'exposureWindow'; label: string; means: string }[] = [
  { key: 'timeToDetect', label: 'Time to detect', means: 'first sign to detection' },
  { key: 'timeToContain', label: 'Time to contain', means: 'detection to verified containment' },
  { key: 'exposureWindow', label: 'Exposure window', means: 'first sign to the credential or session proven unusable' },
];

function TimingTable({ metrics }: { metrics: OverallMetrics }) {
  const cell = (d: Distribution, v: number | null) => (d.count ? formatDuration(v) : '—');
  return (
    <table className="timings">
      <caption>Over all incidents</caption>
      <thead><tr><th scope="col">Measure</th><th scope="col">Incidents</th><th scope="col">Median</th><th scope="col">90th percentile</th><th scope="col">Longest</th></tr></thead>
      <tbody>
        {TIMINGS.map(({ key, label, means }) => {
          const d = metrics[key];
          return <tr key={key}><th scope="row">{label}<div className="muted small">{means}</div></th><td>{d.count}</td><td>{cell(d, d.p50Ms)}</td><td>{cell(d, d.p90Ms)}</td><td>{cell(d, d.maxMs)}</td></tr>;
        })}
      </tbody>
    </table>
  );
}

function Containment({ metrics }: { metrics: OverallMetrics }) {
  const points = useMemo(() => metrics.series.map((p) => ({
    key: p.incidentId, at: new Date(p.openedAt), values: { timeToContainMs: p.timeToContainMs, exposureWindowMs: p.exposureWindowMs },
  })), [metrics.series]);
  const measured = metrics.series.filter((p) => p.timeToContainMs !== null || p.exposureWindowMs !== null);
  return (
    <>
      <DurationChart
        title={`Time to contain and exposure window of the latest ${metrics.series.length} incidents, by when each opened`}
        points={points}
        series={[{ key: 'timeToContainMs', label: 'Time to contain', shape: 'circle' }, { key: 'exposureWindowMs', label: 'Exposure window', shape: 'square' }]}
      >
        {measured.length ? (
          <details className="chart-table">
            <summary>The chart's figures as a table ({measured.length} incidents)</summary>
            <table>
              <caption className="visually-hidden">Time to contain and exposure window per incident</caption>
              <thead><tr><th scope="col">Incident opened</th><th scope="col">Severity</th><th scope="col">Time to detect</th><th scope="col">Time to contain</th><th scope="col">Exposure window</th></tr></thead>
              <tbody>
                {measured.map((p) => (
                  <tr key={p.incidentId}>
                    <td><Link to={`/incidents/${encodeURIComponent(p.incidentId)}`}>{new Date(p.openedAt).toISOString().replace('T', ' ').slice(0, 19)}</Link></td>
                    <td><Badge kind="severity" value={p.severity} /></td>
                    <td>{formatDuration(p.timeToDetectMs)}</td><td>{formatDuration(p.timeToContainMs)}</td><td>{formatDuration(p.exposureWindowMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        ) : null}
      </DurationChart>
      <TimingTable metrics={metrics} />
    </>
  );
}

const CHECKS: { key: keyof ReadinessChecks; label: string }[] = [
  { key: 'rotate', label: 'can rotate' }, { key: 'revokeSessions', label: 'can end sessions' }, { key: 'disable', label: 'can disable' },
  { key: 'owner', label: 'owner known' }, { key: 'playbook', label: 'playbook covers a leak' },
];

function ReadinessSummary({ readiness }: { readiness: Readiness }) {
  const { summary } = readiness;
  const least = [...readiness.items].sort((a, b) => a.score - b.score || a.identityId.localeCompare(b.identityId)).filter((i) => i.score < 1).slice(0, LEAST_READY_SHOWN);
  return (
    <>
      <p className="big-figure">
        <strong>{Math.round(summary.score * 100)}%</strong> ready on average; {summary.ready} of {summary.identities} identities could be contained today without a person.
      </p>
      <ul className="check-bars" aria-label="Identities meeting each check">
        {CHECKS.map(({ key, label }) => {
          const met = summary.byCheck[key] ?? 0;
          return (
            <li key={key}>
              <span className="check-label">{label}</span>
              <meter min={0} max={Math.max(1, summary.identities)} value={met} aria-label={`${label}: ${met} of ${summary.identities}`} />
              <span className="check-count">{met} of {summary.identities}</span>
            </li>
          );
        })}
      </ul>
      {least.length ? (
        <table>
          <caption>Least ready identities</caption>
          <thead><tr><th scope="col">Identity</th><th scope="col">Score</th><th scope="col">What is missing</th></tr></thead>
          <tbody>
            {least.map((i) => (
              <tr key={i.identityId}>
                <td><Link to={`/identities/${encodeURIComponent(i.identityId)}`}>{i.name}</Link><div className="muted small">{i.kind.replace(/_/g, ' ')} on {i.provider}, {i.environment}</div></td>
                <td>{Math.round(i.score * 100)}%</td>
                <td>{i.gaps.join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : <p className="ok">Every identity meets every check.</p>}
    </>
  );
}

export function OverviewPage() {
  const since = useMemo(() => new Date(`${dayKey(new Date(Date.now() - (DAYS - 1) * 86_400_000))}T00:00:00.000Z`), []);
  const metrics = useQuery({ queryKey: keys.incidentMetrics(), queryFn: api.incidentMetrics });
  const readiness = useQuery({ queryKey: keys.readiness(), queryFn: api.readiness });
  const detectionFilter = { since: since.toISOString(), limit: DETECTIONS_READ };
  const detections = useQuery({ queryKey: keys.detections(detectionFilter), queryFn: () => api.detections(detectionFilter) });

  return (
    <Page title="Overview" subtitle="What needs attention now, and how containment is going.">
      <div className="grid-2">
        <Section title="Open incidents by severity">
          <Loaded query={metrics} what="incident figures">{(m) => <OpenIncidents metrics={m} />}</Loaded>
        </Section>
        <Section title="Actions awaiting approval">
          <Loaded query={metrics} what="incident figures">{(m) => <AwaitingApproval count={m.actionsAwaitingApproval} />}</Loaded>
        </Section>
      </div>
      <Section title="Time to contain and exposure window">
        <Loaded query={metrics} what="incident figures">{(m) => <Containment metrics={m} />}</Loaded>
      </Section>
      <div className="grid-2">
        <Section title="Containment readiness">
          <Loaded query={readiness} what="containment readiness">{(r) => <ReadinessSummary readiness={r} />}</Loaded>
        </Section>
        <Section title={`Detections in the last ${DAYS} days`}>
          <Loaded query={detections} what="detections">
            {(page) => (
              <>
                <StackedBars title={`Detections per day by severity, last ${DAYS} days`} buckets={detectionsByDay(page.items, since)} series={SEVERITY_SERIES} />
                {page.nextCursor ? <p className="muted">More than {DETECTIONS_READ} detections: the chart shows the most recent {DETECTIONS_READ}.</p> : null}
              </>
            )}
          </Loaded>
        </Section>
      </div>
    </Page>
  );
}
