import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { SEVERITIES } from '../../../src/domain/detection.js';
import { api, keys } from '../api/endpoints';
import type { Detection, Incident } from '../api/types';
import { Badge } from '../components/badge';
import { StackedBars, type Bucket } from '../components/chart';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { Time } from '../components/time';

const RECENT_INCIDENTS = 200;
const DAYS = 14;
const DETECTIONS_READ = 1000;

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

function OpenIncidents({ items, more }: { items: Incident[]; more: boolean }) {
  const open = items.filter((i) => i.status !== 'closed');
  return (
    <>
      <ul className="tiles">
        {[...SEVERITIES].reverse().map((severity) => (
          <li key={severity} className={`tile tile-${severity}`}>
            <Link to={`/incidents?severity=${severity}`}>
              <span className="tile-number">{open.filter((i) => i.severity === severity).length}</span>
              <span className="tile-label">{severity}</span>
            </Link>
          </li>
        ))}
      </ul>
      <p className="muted">{open.length} open{more ? `, counted among the ${RECENT_INCIDENTS} most recent incidents` : ''}; {open.filter((i) => i.escalated).length} escalated.</p>
    </>
  );
}

export function OverviewPage() {
  const since = useMemo(() => new Date(`${dayKey(new Date(Date.now() - (DAYS - 1) * 86_400_000))}T00:00:00.000Z`), []);
  const incidentFilter = { limit: RECENT_INCIDENTS };
  const incidents = useQuery({ queryKey: keys.incidents(incidentFilter), queryFn: () => api.incidents(incidentFilter) });
  const approvalFilter = { state: 'awaiting_approval' };
  const approvals = useQuery({ queryKey: keys.actions(approvalFilter), queryFn: () => api.actions(approvalFilter) });
  const detectionFilter = { since: since.toISOString(), limit: DETECTIONS_READ };
  const detections = useQuery({ queryKey: keys.detections(detectionFilter), queryFn: () => api.detections(detectionFilter) });

  return (
    <Page title="Overview" subtitle="What needs attention now, and how containment is going.">
      <div className="grid-2">
        <Section title="Open incidents by severity">
          <Loaded query={incidents} what="incidents">{(page) => <OpenIncidents items={page.items} more={page.nextCursor !== null} />}</Loaded>
        </Section>
        <Section title="Actions awaiting approval">
          <Loaded query={approvals} what="actions awaiting approval">
            {({ items }) => items.length ? (
              <ul className="plain-list">
                {items.map((run) => (
                  <li key={run.id}>
                    <Link to={run.incidentId ? `/incidents/${encodeURIComponent(run.incidentId)}` : '/incidents'}>{run.action.replace(/_/g, ' ')} → {run.targetLabel}</Link>{' '}
                    <Badge kind="state" value={run.state} /> <Time at={run.updatedAt} />
                  </li>
                ))}
              </ul>
            ) : <p>No step is waiting for approval.</p>}
          </Loaded>
        </Section>
      </div>
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
      <Section title="Time to contain, exposure window and containment readiness">
        <p className="muted">
          Not served by the API yet: these need the incident metrics and readiness scores of the response engine. They will be
          charted here from its data; nothing is shown until then.
        </p>
      </Section>
    </Page>
  );
}
