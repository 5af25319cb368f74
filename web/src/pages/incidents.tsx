import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { SEVERITIES } from '../../../src/domain/detection.js';
import { INCIDENT_STATUSES } from '../../../src/domain/incident.js';
import { api, keys } from '../api/endpoints';
import { Badge } from '../components/badge';
import { CursorPager, FilterBar, useFilters } from '../components/filters';
import { Loaded } from '../components/loaded';
import { Page } from '../components/page';
import { Time } from '../components/time';

const FIELDS = [
  { name: 'open', label: 'Open or closed', type: 'select', options: ['true'], optionLabels: { true: 'open only' } },
  { name: 'status', label: 'Status', type: 'select', options: INCIDENT_STATUSES },
  { name: 'severity', label: 'Severity at least', type: 'select', options: SEVERITIES },
  { name: 'escalated', label: 'Escalated', type: 'select', options: ['true', 'false'], optionLabels: { true: 'escalated', false: 'not escalated' } },
  { name: 'identity', label: 'Identity id', type: 'text', placeholder: 'e.g. svc-payments-api' },
  { name: 'team', label: 'Team', type: 'text', placeholder: 'team id' },
] as const;

export function IncidentsPage() {
  const filter = useFilters(['open', 'status', 'severity', 'escalated', 'identity', 'team', 'cursor']);
  const query = useQuery({ queryKey: keys.incidents(filter), queryFn: () => api.incidents(filter) });
  return (
    <Page title="Incidents" subtitle="The response queue, newest first; it updates as incidents open and move.">
      <FilterBar fields={FIELDS} label="Filter incidents" />
      <Loaded query={query} what="incidents">
        {(page) => (
          <>
            <table>
              <caption className="visually-hidden">Incidents</caption>
              <thead>
                <tr>
                  <th scope="col">Incident</th><th scope="col">Severity</th><th scope="col">Status</th><th scope="col">Identities</th>
                  <th scope="col">Assignee</th><th scope="col">Teams</th><th scope="col">Opened</th><th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((incident) => (
                  <tr key={incident.id}>
                    <td>
                      <Link to={`/incidents/${encodeURIComponent(incident.id)}`}>{incident.title}</Link>{incident.escalated ? <> <Badge value="escalated" /></> : null}
                      <div className="muted small">{incident.type.replace(/_/g, ' ')}</div>
                    </td>
                    <td><Badge kind="severity" value={incident.severity} /></td>
                    <td><Badge kind="status" value={incident.status} /></td>
                    <td>{incident.identityIds.map((id, i) => <span key={id}>{i ? ', ' : ''}<Link to={`/identities/${encodeURIComponent(id)}`}>{id}</Link></span>)}</td>
                    <td>{incident.assignee ?? <span className="muted">unassigned</span>}</td>
                    <td>{incident.teams.join(', ')}</td>
                    <td><Time at={incident.openedAt} /></td>
                    <td><Time at={incident.updatedAt} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.items.length === 0 ? <p>No incident matches.</p> : null}
            <CursorPager nextCursor={page.nextCursor} />
          </>
        )}
      </Loaded>
    </Page>
  );
}
