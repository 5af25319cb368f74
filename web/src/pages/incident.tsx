import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, keys } from '../api/endpoints';
import type { ActionRun, IncidentDetail, ReportFormat } from '../api/types';
import { ActionRunCard } from '../components/action-run';
import { Badge } from '../components/badge';
import { BlastRadiusView } from '../components/blast-radius';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { ProblemView } from '../components/problem';
import { Time } from '../components/time';

function byTier(actions: ActionRun[]): [number, ActionRun[]][] {
  const tiers = new Map<number, ActionRun[]>();
  for (const run of [...actions].sort((a, b) => a.tier - b.tier || a.seq - b.seq)) {
    tiers.set(run.tier, [...(tiers.get(run.tier) ?? []), run]);
  }
  return [...tiers];
}

function ReportButtons({ incidentId }: { incidentId: string }) {
  const download = useMutation({
    mutationFn: async (format: ReportFormat) => {
      const blob = await api.incidentReport(incidentId, format);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `incident-${incidentId}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 0);
    },
  });
  return (
    <div className="report-buttons">
      <button type="button" className="secondary" onClick={() => download.mutate('md')}>Download report (Markdown)</button>
      <button type="button" className="secondary" onClick={() => download.mutate('json')}>Download report (JSON)</button>
      {download.isError ? <ProblemView error={download.error} context="Downloading the report" /> : null}
    </div>
  );
}

function Evidence({ incidentId }: { incidentId: string }) {
  const filter = { subject: `incident:${incidentId}`, limit: 1000 };
  const query = useQuery({ queryKey: keys.audit(filter), queryFn: () => api.audit(filter) });
  return (
    <Loaded query={query} what="the incident's audit records">
      {({ items }) => items.length ? (
        <table>
          <caption>Audit records about this incident, each chained to the one before by its hash</caption>
          <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Hash</th><th scope="col">Payload digest</th></tr></thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.seq}><td>{r.seq}</td><td><Time at={r.at} /></td><td>{r.action}</td><td>{r.actorSubject}</td><td><code className="digest">{r.hash}</code></td><td><code className="digest">{r.payloadDigest}</code></td></tr>
            ))}
          </tbody>
        </table>
      ) : <p>No audit record names this incident yet.</p>}
    </Loaded>
  );
}

function IncidentBody({ incident }: { incident: IncidentDetail }) {
  const [scope, setScope] = useState(incident.identityIds[0] ?? '');
  return (
    <Page
      title={incident.title}
      subtitle={<>
        <Badge kind="severity" value={incident.severity} /> <Badge kind="status" value={incident.status} /> {incident.escalated ? <Badge value="escalated" /> : null}{' '}
        TLP:{incident.tlp.toUpperCase()} · assignee {incident.assignee ?? 'none'} · teams {incident.teams.join(', ') || 'none'} · opened <Time at={incident.openedAt} /> · updated <Time at={incident.updatedAt} />
      </>}
      actions={<ReportButtons incidentId={incident.id} />}
    >
      <Section title="Response steps">
        {incident.actions.length ? byTier(incident.actions).map(([tier, runs]) => (
          <div key={tier} className="tier">
            <h3 className="tier-heading">Tier {tier}</h3>
            {runs.map((run) => <ActionRunCard key={run.id} run={run} />)}
          </div>
        )) : <p>No action has been planned for this incident.</p>}
      </Section>
      <div className="grid-2">
        <Section title="Timeline">
          {incident.timeline.length ? null : <p>Nothing has happened yet.</p>}
          <ol className="timeline">
            {incident.timeline.map((entry, i) => (
              <li key={i}><Time at={entry.at} /> <Badge value={entry.kind} /> {entry.summary} <span className="muted">({entry.actor})</span></li>
            ))}
          </ol>
        </Section>
        <Section title="Detections">
          {incident.detections.length ? null : <p>No detection is linked to this incident.</p>}
          <ul className="plain-list">
            {incident.detections.map((d) => (
              <li key={d.id}><Link to={`/detections/${encodeURIComponent(d.id)}`}>{d.title}</Link> <Badge kind="severity" value={d.severity} /> <Badge value={d.confidence} /></li>
            ))}
          </ul>
          {incident.escalations.length ? <p className="warn">Escalated {incident.escalations.length} time{incident.escalations.length === 1 ? '' : 's'}.</p> : null}
        </Section>
      </div>
      <Section title="Blast radius" actions={incident.identityIds.length > 1 ? (
        <label className="field inline">
          <span>Identity in scope</span>
          <select value={scope} onChange={(e) => setScope(e.target.value)}>{incident.identityIds.map((id) => <option key={id} value={id}>{id}</option>)}</select>
        </label>
      ) : null}>
        {scope ? <><p><Link to={`/identities/${encodeURIComponent(scope)}`}>{scope}</Link></p><BlastRadiusView identityId={scope} /></> : <p>No identity is in scope.</p>}
      </Section>
      <Section title="Evidence">
        <Evidence incidentId={incident.id} />
      </Section>
    </Page>
  );
}

export function IncidentPage() {
  const { id = '' } = useParams();
  const query = useQuery({ queryKey: keys.incident(id), queryFn: () => api.incident(id) });
  if (!query.isSuccess) return <Page title={`Incident ${id}`}><Loaded query={query} what="the incident">{() => null}</Loaded></Page>;
  return <IncidentBody incident={query.data} />;
}
