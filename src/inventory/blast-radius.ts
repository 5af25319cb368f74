import { NotFoundError } from '../domain/errors.js';
import { criticalityRank, TAG_CUSTOMER_FACING, type Criticality } from '../domain/identity.js';
import type { BlastRadius, BlastRadiusNode, Consumer, EdgeKind, NodeRef, ReachableResource } from '../domain/graph.js';
import type { IdentityGraph } from './graph-index.js';

export interface BlastRadiusOptions {
  /** Hops from the start (default 6). */
  depth?: number;
  /** Stop adding nodes past this many (default 2000); the answer says it was truncated. */
  limit?: number;
}

export const MAX_DEPTH = 10;
export const MAX_NODES = 20000;

interface Step extends NodeRef {
  via: EdgeKind;
}

/**
 * What is exposed if `start` (an identity or a credential) is compromised: breadth first over
 * the identity graph, each node once, bounded by depth and a node limit. From an identity: its
 * active credentials, identities sharing a credential's fingerprint, its live sessions and the
 * sessions derived from them, identities it delegates to, workloads that trust it; then the
 * resources every reached identity can access, and who breaks if the start is revoked.
 */
export async function blastRadius(graph: IdentityGraph, start: NodeRef, options: BlastRadiusOptions = {}): Promise<BlastRadius> {
  await graph.sync();
  const depth = Math.min(options.depth ?? 6, MAX_DEPTH);
  const limit = Math.min(options.limit ?? 2000, MAX_NODES);
  const now = Date.now();

  const nodes = new Map<string, BlastRadiusNode>();
  nodes.set(key(start), { ...start, depth: 0, via: 'start', label: labelOf(graph, start) });
  let frontier: NodeRef[] = [start];
  let truncated = false;
  for (let level = 1; level <= depth && frontier.length > 0 && !truncated; level++) {
    const next: NodeRef[] = [];
    for (const from of frontier) {
      for (const step of neighbours(graph, from, now)) {
        const k = key(step);
        if (nodes.has(k)) continue;
        if (nodes.size >= limit) {
          truncated = true;
          break;
        }
        nodes.set(k, { type: step.type, id: step.id, depth: level, via: step.via, from: { type: from.type, id: from.id }, label: labelOf(graph, step) });
        next.push({ type: step.type, id: step.id });
      }
      if (truncated) break;
    }
    frontier = next;
  }

  const all = [...nodes.values()];
  const identities = all.filter((n) => n.type === 'identity').map((n) => n.id);
  return {
    start,
    depth,
    truncated,
    nodes: all,
    identities,
    credentials: all.filter((n) => n.type === 'credential').map((n) => n.id),
    sessions: all.filter((n) => n.type === 'session').map((n) => n.id),
    resources: reachableResources(graph, identities),
    revocationImpact: revocationImpact(graph, start, all),
  };
}

function key(node: NodeRef): string {
  return `${node.type}:${node.id}`;
}

/** Everything one edge away from a node, in the direction compromise spreads. */
function* neighbours(graph: IdentityGraph, node: NodeRef, now: number): Generator<Step> {
  const live = (sessionId: string) => {
    const s = graph.sessions.get(sessionId);
    return s !== undefined && (s.expiresAt === null || s.expiresAt > now);
  };
  if (node.type === 'identity') {
    for (const id of graph.credentialsOf.get(node.id)) {
      if (graph.credentials.get(id)?.status === 'active') yield { type: 'credential', id, via: 'uses' };
    }
    for (const id of graph.sessionsOf.get(node.id)) if (live(id)) yield { type: 'session', id, via: 'issued_to' };
    for (const id of graph.delegatesTo.get(node.id)) if (graph.identities.has(id)) yield { type: 'identity', id, via: 'delegates_to' };
    for (const id of graph.trustedBy.get(node.id)) if (graph.identities.has(id)) yield { type: 'identity', id, via: 'trusts' };
  } else if (node.type === 'credential') {
    const credential = graph.credentials.get(node.id);
    if (!credential) return;
    yield { type: 'identity', id: credential.identityId, via: 'uses' };
    if (!credential.fingerprint) return;
    for (const id of graph.credentialsByFingerprint.get(credential.fingerprint)) {
      const other = graph.credentials.get(id);
      if (id === node.id || other?.status !== 'active') continue;
      yield { type: 'credential', id, via: 'shares_credential' };
      yield { type: 'identity', id: other.identityId, via: 'shares_credential' };
    }
  } else if (node.type === 'session') {
    for (const id of graph.childSessions.get(node.id)) if (live(id)) yield { type: 'session', id, via: 'derived_from' };
  }
}

function labelOf(graph: IdentityGraph, node: NodeRef): string {
  switch (node.type) {
    case 'identity': {
      const identity = graph.identities.get(node.id);
      if (identity) return identity.name;
      break;
    }
    case 'credential': {
      const credential = graph.credentials.get(node.id);
      if (credential) return `${credential.name} (${credential.type})`;
      break;
    }
    case 'session': {
      const session = graph.sessions.get(node.id);
      if (session) return session.label;
      break;
    }
  }
  throw new NotFoundError(`ERR_${node.type.toUpperCase()}_NOT_FOUND`, `${node.type} "${node.id}" does not exist`);
}

function reachableResources(graph: IdentityGraph, identities: string[]): ReachableResource[] {
  const byResource = new Map<string, ReachableResource>();
  for (const identityId of identities) {
    for (const grantId of graph.grantsOf.get(identityId)) {
      const grant = graph.grants.get(grantId)!;
      const resource = graph.resources.get(grant.resourceId);
      if (!resource) continue;
      const reached = byResource.get(grant.resourceId) ?? {
        id: grant.resourceId, name: resource.name, criticality: resource.criticality, permissions: [], through: [],
      };
      reached.permissions = [...new Set([...reached.permissions, ...grant.permissions])].sort();
      reached.through.push(identityId);
      byResource.set(grant.resourceId, reached);
    }
  }
  return [...byResource.values()].sort((a, b) => criticalityRank(b.criticality) - criticalityRank(a.criticality) || a.id.localeCompare(b.id));
}

/**
 * Who stops working if the start is revoked: workloads that trust it, identities sharing one of
 * its credentials, identities it delegated to.
 */
function revocationImpact(graph: IdentityGraph, start: NodeRef, nodes: BlastRadiusNode[]): BlastRadius['revocationImpact'] {
  const owner = start.type === 'credential' ? graph.credentials.get(start.id)?.identityId : start.id;
  const startCredentials = new Set(start.type === 'credential' ? [start.id] : graph.credentialsOf.get(start.id));
  const consumers: Consumer[] = [];
  for (const node of nodes) {
    if (node.type !== 'identity') continue;
    const direct =
      ((node.via === 'trusts' || node.via === 'delegates_to') && node.from?.id === owner) ||
      (node.via === 'shares_credential' && startCredentials.has(node.from?.id ?? ''));
    const identity = graph.identities.get(node.id);
    if (!direct || !identity) continue;
    consumers.push({
      identityId: node.id,
      name: identity.name,
      kind: identity.kind,
      status: identity.status,
      relation: node.via as Consumer['relation'],
      criticality: identity.criticality,
      customerFacing: identity.tags.includes(TAG_CUSTOMER_FACING),
    });
  }
  const highest = consumers.reduce<Criticality | null>(
    (max, c) => (max === null || criticalityRank(c.criticality) > criticalityRank(max) ? c.criticality : max), null);
  return {
    consumers,
    safeToRevoke: !consumers.some((c) => c.customerFacing || criticalityRank(c.criticality) >= criticalityRank('high')),
    highestCriticality: highest,
  };
}
