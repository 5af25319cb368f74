import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { api, keys } from '../api/endpoints';
import type { ActionRun, IncidentDetail, ReportFormat } from '../api/types';
import { ActionRunCard } from '../components/action-run';
import { Badge } from '../components/badge';
import { BlastRadiusSnapshotView } from '../components/blast-radius';
import { useIncidentChange } from '../components/incident/change';
import { saveBlob } from '../components/incident/download';
import { Evidence } from '../components/incident/evidence';
import { IncidentTimings } from '../components/incident/metrics';
import { IncidentStatusPanel } from '../components/incident/status';
import { Notes, Tasks } from '../components/incident/tasks';
import { Timeline } from '../components/incident/timeline';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { ProblemView } from '../components/problem';
import { Time } from '../components/time';
import { useSession } from '../session/session';

/** Runs grouped by tier, in the order the playbook runs them. */
function byTier(actions: ActionRun[]): [string, ActionRun[]][] {
  const tiers = new Map<string, ActionRun[]>();
  for (const run of [...actions].sort((a, b) => a.responseId.localeCompare(b.responseId) || a.seq - b.seq)) {
    tiers.set(run.tier, [...(tiers.get(run.tier) ?? []), run]);
  }
  return [...tiers];
}

function ReportButtons({ incidentId }: { incidentId: string }) {
  const download = useMutation({
    mutationFn: async (format: ReportFormat) => saveBlob(await api.incidentReport(incidentId, format), `incident-${incidentId}.${format}`),
  });
  return (
    <div className="report-buttons">
      <button type="button" className="secondary" onClick={() => download.mutate('md')}>Download report (Markdown)</button>
      <button type="button" className="secondary" onClick={() => download.mutate('json')}>Download report (JSON)</button>
      {download.isError ? <ProblemView error={download.error} context="Downloading the report" /> : null}
    </div>
  );
}

function Steps({ incident }: { incident: IncidentDetail }) {
  if (!incident.actions.length) return <p>No step has been planned for this incident.</p>;
  const awaiting = incident.actions.filter((run) => run.state === 'awaiting_approval').length;
  return (
    <>
      {awaiting ? <p className="callout">{awaiting} step{awaiting === 1 ? ' awaits' : 's await'} approval.</p> : null}
      {byTier(incident.actions).map(([tier, runs]) => (
        <div key={tier} className="tier">
          <h3 className="tier-heading">Tier {tier}</h3>
          {runs.map((run) => <ActionRunCard key={run.id} run={run} />)}
        </div>
      ))}
    </>
  );
}

function BlastRadius({ incident }: { incident: IncidentDetail }) {
  const { can } = useSession();
  const refresh = useIncidentChange(() => api.snapshotBlastRadius(incident.id));
  const snapshot = incident.blastRadius;
  return (
    <>
      <div className="panel-intro">
        <p className="muted">
          {snapshot
            ? <>Snapshot of <Link to={`/identities/${encodeURIComponent(snapshot.identityId)}`}>{snapshot.identityId}</Link> taken <Time at={incident.blastRadiusAt} />, kept as evidence.</>
            : 'No identity is in scope: there is no blast radius to take.'}
        </p>
        {can.respond && snapshot ? <button type="button" className="secondary" onClick={() => refresh.mutate(undefined)} disabled={refresh.isPending}>{refresh.isPending ? 'Taking a snapshot…' : 'Take a new snapshot'}</button> : null}
      </div>
      {refresh.isError ? <ProblemView error={refresh.error} context="Taking the snapshot" /> : null}
      {snapshot ? <BlastRadiusSnapshotView snapshot={snapshot} /> : null}
    </>
  );
}

function Sources({ incident }: { incident: IncidentDetail }) {
  return (
    <>
      {incident.detections.length ? (
        <ul className="plain-list">
          {incident.detections.map((d) => (
            <li key={d.id}>
              <Link to={`/detections/${encodeURIComponent(d.id)}`}>{d.title}</Link> <Badge kind="severity" value={d.severity} /> <Badge value={d.confidence} />
              <div className="muted small">{d.rule} · detected <Time at={d.detectedAt} /> · {[...d.frameworks.owaspNhi, ...d.frameworks.nistCsf].join(', ')}</div>
            </li>
          ))}
        </ul>
      ) : <p>No detection is linked to this incident.</p>}
      {incident.responses.length ? (
        <>
          <h3>Responses</h3>
          <ul className="plain-list">
            {incident.responses.map((r) => (
              <li key={r.id}>
                Playbook <Link to={`/playbooks/${encodeURIComponent(r.playbookId)}?version=${r.playbookVersion}`}>{r.playbookId} v{r.playbookVersion}</Link>{' '}
                <Badge kind="status" value={r.status} /> <span className="muted small">asked by {r.requestedBy}, <Time at={r.createdAt} /></span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

function Escalations({ incident }: { incident: IncidentDetail }) {
  return (
    <ul className="plain-list">
      {incident.escalations.map((e, i) => (
        <li key={i}>
          <Time at={e.at} /> <Badge value={e.code} /> {e.reason}{e.runId ? <> · <a href={`#run-${e.runId}`}>step</a></> : null}
        </li>
      ))}
    </ul>
  );
}

function IncidentBody({ incident }: { incident: IncidentDetail }) {
  return (
    <Page
      title={incident.title}
      subtitle={<>
        <Badge kind="severity" value={incident.severity} /> <Badge kind="status" value={incident.status} />{incident.escalated ? <> <Badge value="escalated" /></> : null}{' '}
        {incident.type.replace(/_/g, ' ')} · {incident.identityIds.length ? incident.identityIds.map((id, i) => <span key={id}>{i ? ', ' : ''}<Link to={`/identities/${encodeURIComponent(id)}`}>{id}</Link></span>) : 'no identity'} · opened <Time at={incident.openedAt} />
      </>}
      actions={<ReportButtons incidentId={incident.id} />}
    >
      <div className="grid-2">
        <Section title="Status"><IncidentStatusPanel incident={incident} /></Section>
        <Section title="Timings"><IncidentTimings metrics={incident.metrics} /></Section>
      </div>
      {incident.escalations.length ? <Section title="Escalated to dedicated response"><Escalations incident={incident} /></Section> : null}
      <Section title="Response steps"><Steps incident={incident} /></Section>
      <div className="grid-2">
        <Section title="Timeline"><Timeline entries={incident.timeline} /></Section>
        <div>
          <Section title="Tasks"><Tasks incident={incident} /></Section>
          <Section title="Notes"><Notes incident={incident} /></Section>
        </div>
      </div>
      <Section title="Blast radius"><BlastRadius incident={incident} /></Section>
      <Section title="Evidence"><Evidence incident={incident} /></Section>
      <Section title="Detections and responses"><Sources incident={incident} /></Section>
    </Page>
  );
}

export function IncidentPage() {
  const { id = '' } = useParams();
  const query = useQuery({ queryKey: keys.incident(id), queryFn: () => api.incident(id) });
  const { hash } = useLocation();
  const loaded = query.isSuccess;
  // A link to one step (`#run-<id>`, from the overview or the timeline) scrolls to it once the incident is drawn.
  useEffect(() => {
    if (loaded && hash) document.getElementById(decodeURIComponent(hash.slice(1)))?.scrollIntoView({ block: 'start' });
  }, [loaded, hash]);
  if (!query.isSuccess) return <Page title={`Incident ${id}`}><Loaded query={query} what="the incident">{() => null}</Loaded></Page>;
  return <IncidentBody incident={query.data} />;
}
