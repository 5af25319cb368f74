import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { IDENTITY_KINDS, IDENTITY_STATUSES } from '../../../src/domain/identity.js';
import { api, keys } from '../api/endpoints';
import { Badge } from '../components/badge';
import { CursorPager, FilterBar, useFilters } from '../components/filters';
import { Loaded } from '../components/loaded';
import { Page } from '../components/page';
import { Age, Time } from '../components/time';

const FIELDS = [
  { name: 'q', label: 'Search name or id', type: 'search' },
  { name: 'kind', label: 'Kind', type: 'select', options: IDENTITY_KINDS },
  { name: 'environment', label: 'Environment', type: 'text', placeholder: 'e.g. prod' },
  { name: 'owner', label: 'Owner team', type: 'text', placeholder: 'team id' },
  { name: 'status', label: 'Status', type: 'select', options: IDENTITY_STATUSES },
] as const;

export function IdentitiesPage() {
  const filter = useFilters(['q', 'kind', 'environment', 'owner', 'status', 'tag', 'cursor']);
  const query = useQuery({ queryKey: keys.identities(filter), queryFn: () => api.identities(filter) });
  return (
    <Page title="Identities" subtitle="Every non-human identity in the graph, with the age of its oldest credential.">
      <FilterBar fields={FIELDS} label="Filter identities" />
      <Loaded query={query} what="identities">
        {(page) => (
          <>
            <table>
              <caption className="visually-hidden">Identities</caption>
              <thead>
                <tr>
                  <th scope="col">Identity</th><th scope="col">Kind</th><th scope="col">Environment</th><th scope="col">Owner</th>
                  <th scope="col">Status</th><th scope="col">Criticality</th><th scope="col">Oldest credential</th><th scope="col">Last used</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((identity) => (
                  <tr key={identity.id}>
                    <td><Link to={`/identities/${encodeURIComponent(identity.id)}`}>{identity.name}</Link><div className="muted small">{identity.id}</div></td>
                    <td>{identity.kind.replace(/_/g, ' ')}</td>
                    <td>{identity.environment}</td>
                    <td>{identity.owners.team ?? <span className="warn">no owner</span>}{identity.owners.backup ? <div className="muted small">backup {identity.owners.backup}</div> : null}</td>
                    <td><Badge kind="status" value={identity.status} /></td>
                    <td><Badge kind="criticality" value={identity.criticality} /></td>
                    <td><Age since={identity.oldestCredentialAt} /></td>
                    <td><Time at={identity.lastUsedAt} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.items.length === 0 ? <p>No identity matches these filters.</p> : null}
            <CursorPager nextCursor={page.nextCursor} />
          </>
        )}
      </Loaded>
    </Page>
  );
}
