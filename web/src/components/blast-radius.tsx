import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { api, keys } from '../api/endpoints';
import type { BlastRadius, BlastRadiusNode, BlastRadiusSnapshot } from '../api/types';
import { Badge } from './badge';
import type { GraphLink, GraphNode } from './graph';
import { Loaded } from './loaded';

/** The graph library is large: loaded with the first page that draws a graph. */
const Graph = lazy(() => import('./graph'));

const nodeKey = (ref: { type: string; id: string }) => `${ref.type}:${ref.id}`;

/** A blast radius as drawn: the live walk of an identity, or an incident's snapshot of one (which counts where the walk lists). */
interface RadiusView {
  startId: string;
  depth: number;
  truncated: boolean;
  counts: { identities: number; credentials: number; sessions: number };
  nodes: BlastRadiusNode[];
  resources: BlastRadius['resources'];
  revocationImpact: BlastRadius['revocationImpact'];
}

const liveView = (radius: BlastRadius): RadiusView => ({
  startId: radius.start.id, depth: radius.depth, truncated: radius.truncated, nodes: radius.nodes, resources: radius.resources, revocationImpact: radius.revocationImpact,
  counts: { identities: radius.identities.length, credentials: radius.credentials.length, sessions: radius.sessions.length },
});

const snapshotView = (snapshot: BlastRadiusSnapshot): RadiusView => ({
  startId: snapshot.identityId, depth: snapshot.depth, truncated: snapshot.truncated, nodes: snapshot.nodes, resources: snapshot.resources,
  revocationImpact: snapshot.revocationImpact, counts: { identities: snapshot.identities, credentials: snapshot.credentials, sessions: snapshot.sessions },
});

/**
 * The walk's nodes, each linked from the node that reached it, plus the resources the reached
 * identities can access (the walk lists those apart), linked from each identity they are reached through.
 */
function toGraph(radius: RadiusView): { nodes: GraphNode[]; links: GraphLink[] } {
  const nodes: GraphNode[] = radius.nodes.map((n) => ({
    key: nodeKey(n), label: n.label, type: n.type, depth: n.depth,
    detail: n.depth === 0 ? 'the start' : `reached by ${n.via.replace(/_/g, ' ')} from ${n.from ? nodeKey(n.from) : '?'}, ${n.depth} step${n.depth === 1 ? '' : 's'} away`,
    ...(n.type === 'identity' ? { href: `/identities/${encodeURIComponent(n.id)}` } : {}),
  }));
  const depthOf = new Map(nodes.map((n) => [n.key, n.depth]));
  const links: GraphLink[] = radius.nodes
    .filter((n) => n.from && depthOf.has(nodeKey(n.from)))
    .map((n) => ({ from: nodeKey(n.from!), to: nodeKey(n), label: n.via.replace(/_/g, ' ') }));
  for (const resource of radius.resources) {
    const key = nodeKey({ type: 'resource', id: resource.id });
    if (depthOf.has(key)) continue;
    const through = resource.through.map((id) => nodeKey({ type: 'identity', id })).filter((from) => depthOf.has(from));
    const depth = through.length ? 1 + Math.min(...through.map((from) => depthOf.get(from)!)) : 1;
    nodes.push({ key, label: resource.name, type: 'resource', depth, detail: `${resource.criticality} resource: ${resource.permissions.join(', ')} through ${resource.through.join(', ')}` });
    depthOf.set(key, depth);
    for (const from of through) links.push({ from, to: key, label: 'accesses' });
  }
  // Same-type nodes side by side on their ring or row, so the drawing groups them.
  nodes.sort((a, b) => a.depth - b.depth || a.type.localeCompare(b.type) || a.label.localeCompare(b.label));
  return { nodes, links };
}

/** What a compromise of the identity exposes and what revoking it breaks: graph, consumers, resources, nodes. */
export function BlastRadiusView({ identityId }: { identityId: string }) {
  const query = useQuery({ queryKey: keys.blastRadius(identityId), queryFn: () => api.blastRadius(identityId) });
  return (
    <Loaded query={query} what="the blast radius">
      {(radius) => <LiveBlastRadius radius={radius} />}
    </Loaded>
  );
}

function LiveBlastRadius({ radius }: { radius: BlastRadius }) {
  const view = useMemo(() => liveView(radius), [radius]);
  return <BlastRadiusBody radius={view} />;
}

/** An incident's blast-radius snapshot, drawn and listed like a live one. */
export function BlastRadiusSnapshotView({ snapshot }: { snapshot: BlastRadiusSnapshot }) {
  const radius = useMemo(() => snapshotView(snapshot), [snapshot]);
  return <BlastRadiusBody radius={radius} />;
}

function BlastRadiusBody({ radius }: { radius: RadiusView }) {
  const { nodes, links } = useMemo(() => toGraph(radius), [radius]);
  const [focus, setFocus] = useState<{ key: string } | null>(null);
  const impact = radius.revocationImpact;
  const label = `Blast radius graph of ${radius.startId}: ${nodes.length} nodes and ${links.length} edges, up to depth ${radius.depth}${radius.truncated ? ', truncated' : ''}`;
  return (
    <div className="blast-radius">
      <p className="summary-line">
        {radius.counts.identities} identities, {radius.counts.credentials} credentials, {radius.counts.sessions} sessions and {radius.resources.length} resources reached.{' '}
        {impact.safeToRevoke
          ? <strong className="ok">Safe to revoke: nothing else depends on it.</strong>
          : <strong className="warn">Not safe to revoke: revoking breaks {impact.consumers.length} consumer{impact.consumers.length === 1 ? '' : 's'} (highest criticality: {impact.highestCriticality ?? 'unknown'}).</strong>}
        {radius.truncated ? <span className="warn"> The walk stopped at its node limit: the radius is larger.</span> : null}
      </p>
      <Suspense fallback={<p className="loading" role="status">Loading the graph view…</p>}>
        <Graph nodes={nodes} links={links} label={label} focus={focus} />
      </Suspense>
      {impact.consumers.length ? (
        <table>
          <caption>What breaks on revocation</caption>
          <thead><tr><th scope="col">Consumer</th><th scope="col">Relation</th><th scope="col">Kind</th><th scope="col">Criticality</th><th scope="col">Customer-facing</th></tr></thead>
          <tbody>
            {impact.consumers.map((c) => (
              <tr key={`${c.identityId}-${c.relation}`}>
                <td><Link to={`/identities/${encodeURIComponent(c.identityId)}`}>{c.name}</Link></td>
                <td>{c.relation.replace(/_/g, ' ')}</td><td>{c.kind}</td><td><Badge kind="criticality" value={c.criticality} /></td><td>{c.customerFacing ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {radius.resources.length ? (
        <table>
          <caption>Reachable resources</caption>
          <thead><tr><th scope="col">Resource</th><th scope="col">Criticality</th><th scope="col">Permissions</th><th scope="col">Through</th></tr></thead>
          <tbody>
            {radius.resources.map((r) => (
              <tr key={r.id}><td>{r.name}</td><td><Badge kind="criticality" value={r.criticality} /></td><td>{r.permissions.join(', ')}</td><td>{r.through.join(', ')}</td></tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <details className="node-table">
        <summary>All {nodes.length} nodes as a table</summary>
        <table>
          <caption className="visually-hidden">Nodes of the blast radius</caption>
          <thead><tr><th scope="col">Node</th><th scope="col">Type</th><th scope="col">Depth</th><th scope="col">Reached by</th><th scope="col">From</th><th scope="col"><span className="visually-hidden">In the graph</span></th></tr></thead>
          <tbody>
            {radius.nodes.map((n) => (
              <tr key={nodeKey(n)}>
                <td>{n.type === 'identity' ? <Link to={`/identities/${encodeURIComponent(n.id)}`}>{n.label}</Link> : n.label}</td>
                <td>{n.type}</td><td>{n.depth}</td><td>{n.via.replace(/_/g, ' ')}</td><td>{n.from ? nodeKey(n.from) : '—'}</td>
                <td><button type="button" className="secondary small" onClick={() => setFocus({ key: nodeKey(n) })} aria-label={`Show ${n.label} in the graph`}>Show</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
