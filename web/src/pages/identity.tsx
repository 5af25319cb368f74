import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, keys } from '../api/endpoints';
import type { GraphEdge, IdentityDetail, ReadinessChecks } from '../api/types';
import { Badge } from '../components/badge';
import { BlastRadiusView } from '../components/blast-radius';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { Time } from '../components/time';

function NodeLink({ node }: { node: GraphEdge['from'] }) {
  return node.type === 'identity' ? <Link to={`/identities/${encodeURIComponent(node.id)}`}>{node.id}</Link> : <span>{node.type}:{node.id}</span>;
}

function Credentials({ identity }: { identity: IdentityDetail }) {
  if (!identity.credentials.length) return <p>No credential is known.</p>;
  return (
    <table>
      <caption className="visually-hidden">Credentials</caption>
      <thead><tr><th scope="col">Credential</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Age</th><th scope="col">Fingerprint</th><th scope="col">Stored in</th><th scope="col">Expires</th><th scope="col">Shared with</th></tr></thead>
      <tbody>
        {identity.credentials.map((c) => (
          <tr key={c.id}>
            <td>{c.name}<div className="muted small">{c.id}</div></td>
            <td>{c.type.replace(/_/g, ' ')}</td>
            <td><Badge kind="status" value={c.status} /></td>
            <td className={c.ageDays > 365 ? 'age-old' : c.ageDays > 90 ? 'age-aging' : undefined}>{c.ageDays} d</td>
            <td>{c.fingerprint ? <code className="digest" title={c.fingerprint}>{c.fingerprint.slice(0, 16)}…</code> : <span className="muted">—</span>}</td>
            <td>{c.storedIn ? `${c.storedIn.kind}: ${c.storedIn.path}` : '—'}</td>
            <td><Time at={c.expiresAt} /></td>
            <td>{c.sharedWith.length ? c.sharedWith.map((id, i) => <span key={id}>{i ? ', ' : ''}<Link to={`/identities/${encodeURIComponent(id)}`}>{id}</Link></span>) : 'no one'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Sessions({ identity }: { identity: IdentityDetail }) {
  if (!identity.sessions.length) return <p>No session is known.</p>;
  return (
    <table>
      <caption className="visually-hidden">Sessions</caption>
      <thead><tr><th scope="col">Session</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col">Derived from</th></tr></thead>
      <tbody>
        {identity.sessions.map((s) => (
          <tr key={s.id}>
            <td>{s.jti ?? s.id}</td><td><Badge kind="status" value={s.status} /></td><td>{s.source}</td>
            <td><Time at={s.issuedAt} /></td><td><Time at={s.expiresAt} /></td><td>{s.parentSessionId ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Grants({ identity }: { identity: IdentityDetail }) {
  if (!identity.grants.length) return <p>No grant is known.</p>;
  return (
    <table>
      <caption className="visually-hidden">Grants</caption>
      <thead><tr><th scope="col">Resource</th><th scope="col">Criticality</th><th scope="col">Permissions</th><th scope="col">Granted</th><th scope="col">Last used</th></tr></thead>
      <tbody>
        {identity.grants.map((g) => (
          <tr key={g.id}>
            <td>{g.resourceName}</td><td><Badge kind="criticality" value={g.resourceCriticality} /></td><td>{g.permissions.join(', ')}</td>
            <td><Time at={g.grantedAt} /></td><td>{g.lastUsedAt ? <Time at={g.lastUsedAt} /> : <span className="warn">never</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Neighbours({ identity }: { identity: IdentityDetail }) {
  return (
    <table>
      <caption className="visually-hidden">Graph neighbours</caption>
      <thead><tr><th scope="col">From</th><th scope="col">Edge</th><th scope="col">To</th></tr></thead>
      <tbody>
        {identity.edges.map((e, i) => (
          <tr key={i}><td><NodeLink node={e.from} /></td><td>{e.kind.replace(/_/g, ' ')}</td><td><NodeLink node={e.to} /></td></tr>
        ))}
      </tbody>
    </table>
  );
}

function Detections({ identityId }: { identityId: string }) {
  const filter = { identity: identityId, limit: 20 };
  const query = useQuery({ queryKey: keys.detections(filter), queryFn: () => api.detections(filter) });
  return (
    <Loaded query={query} what="detections">
      {({ items }) => items.length ? (
        <ul className="plain-list">
          {items.map((d) => <li key={d.id}><Link to={`/detections/${encodeURIComponent(d.id)}`}>{d.title}</Link> <Badge kind="severity" value={d.severity} /> <Time at={d.detectedAt} /></li>)}
        </ul>
      ) : <p>No detection names this identity.</p>}
    </Loaded>
  );
}

function Incidents({ identityId }: { identityId: string }) {
  const filter = { identity: identityId, limit: 20 };
  const query = useQuery({ queryKey: keys.incidents(filter), queryFn: () => api.incidents(filter) });
  return (
    <Loaded query={query} what="incidents">
      {(page) => page.items.length ? (
        <>
          <ul className="plain-list">
            {page.items.map((i) => (
              <li key={i.id}>
                <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</Link> <Badge kind="severity" value={i.severity} /> <Badge kind="status" value={i.status} />
                <div className="muted small">opened <Time at={i.openedAt} /></div>
              </li>
            ))}
          </ul>
          {page.nextCursor ? <p><Link to={`/incidents?identity=${encodeURIComponent(identityId)}`}>All incidents of this identity</Link></p> : null}
        </>
      ) : <p>No incident involves this identity.</p>}
    </Loaded>
  );
}

const CHECKS: { key: keyof ReadinessChecks; label: string }[] = [
  { key: 'rotate', label: 'A connector can rotate its credential' },
  { key: 'revokeSessions', label: 'A connector can end its sessions' },
  { key: 'disable', label: 'A connector can disable it' },
  { key: 'owner', label: 'An owning team is known' },
  { key: 'playbook', label: 'A playbook answers a confirmed leak of its secret' },
];

/** Could Cordon contain this identity today without a person? */
function Readiness({ identityId, offboarded }: { identityId: string; offboarded: boolean }) {
  const query = useQuery({ queryKey: keys.identityReadiness(identityId), queryFn: () => api.identityReadiness(identityId), enabled: !offboarded });
  if (offboarded) return <p>An offboarded identity is not assessed: there is nothing left to contain.</p>;
  return (
    <Loaded query={query} what="containment readiness">
      {(readiness) => (
        <>
          <p><strong>{Math.round(readiness.score * 100)}% ready</strong>{readiness.playbook ? <>; a confirmed leak runs <Link to={`/playbooks/${encodeURIComponent(readiness.playbook)}`}>{readiness.playbook}</Link></> : null}.</p>
          <ul className="checks" aria-label="Readiness checks">
            {CHECKS.map(({ key, label }) => (
              <li key={key}><Badge kind="state" value={readiness.checks[key] ? 'passed' : 'failed'} /> {label}</li>
            ))}
          </ul>
          {readiness.gaps.length ? <p className="warn">Missing: {readiness.gaps.join('; ')}.</p> : null}
        </>
      )}
    </Loaded>
  );
}

function IdentityBody({ identity }: { identity: IdentityDetail }) {
  const primary = identity.owners.find((o) => o.role === 'primary') ?? identity.owners[0];
  return (
    <Page
      title={identity.name}
      subtitle={<><code>{identity.id}</code> · {identity.kind.replace(/_/g, ' ')} on {identity.provider} · {identity.environment} · <Badge kind="status" value={identity.status} /> <Badge kind="criticality" value={identity.criticality} /></>}
    >
      <div className="grid-2">
        <Section title="Summary">
          <dl className="facts">
            <dt>Owners</dt><dd>{identity.owners.length ? identity.owners.map((o) => `${o.name} (${o.role}${o.channel ? `, ${o.channel}` : ''})`).join('; ') : <span className="warn">none: nobody to route tasks to</span>}</dd>
            <dt>Connector</dt><dd>{identity.connectorId ?? <span className="warn">none: Cordon cannot act on it</span>}</dd>
            <dt>External ref</dt><dd>{identity.externalRef ?? '—'}</dd>
            <dt>Tags</dt><dd>{identity.tags.length ? identity.tags.map((t) => <Badge key={t} value={t} />) : '—'}</dd>
            <dt>Created</dt><dd><Time at={identity.createdAt} /></dd>
            <dt>Last used</dt><dd><Time at={identity.lastUsedAt} /></dd>
            {primary ? <><dt>Primary team</dt><dd>{primary.name} ({primary.responsibility})</dd></> : null}
          </dl>
        </Section>
        <Section title="Containment readiness"><Readiness identityId={identity.id} offboarded={identity.status === 'offboarded'} /></Section>
      </div>
      <Section title="Credentials"><Credentials identity={identity} /></Section>
      <Section title="Sessions"><Sessions identity={identity} /></Section>
      <Section title="Grants"><Grants identity={identity} /></Section>
      <div className="grid-2">
        <Section title="Incidents"><Incidents identityId={identity.id} /></Section>
        <Section title="Detections"><Detections identityId={identity.id} /></Section>
      </div>
      <Section title="Graph neighbours"><Neighbours identity={identity} /></Section>
      <Section title="Blast radius"><BlastRadiusView identityId={identity.id} /></Section>
    </Page>
  );
}

export function IdentityPage() {
  const { id = '' } = useParams();
  const query = useQuery({ queryKey: keys.identity(id), queryFn: () => api.identity(id) });
  if (!query.isSuccess) return <Page title={id}><Loaded query={query} what="the identity">{() => null}</Loaded></Page>;
  return <IdentityBody identity={query.data} />;
}
