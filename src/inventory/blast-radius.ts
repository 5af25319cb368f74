import { sql } from 'kysely';
import { NotFoundError } from '../domain/errors.js';
import {
  criticalityRank, TAG_CUSTOMER_FACING, type Criticality, type IdentityKind, type IdentityStatus,
} from '../domain/identity.js';
import type { BlastRadius, BlastRadiusNode, Consumer, EdgeKind, NodeRef, NodeType, ReachableResource } from '../domain/graph.js';
import type { Executor } from '../store/db.js';

export interface BlastRadiusOptions {
  /** Hops from the start (default 6). */
  depth?: number;
  /** Stop adding nodes past this many (default 2000); the answer says it was truncated. */
  limit?: number;
}

export const MAX_DEPTH = 10;
export const MAX_NODES = 20000;

interface Reached {
  type: NodeType;
  id: string;
  fromType: NodeType;
  fromId: string;
  via: EdgeKind;
}

/**
 * What is exposed if `start` (an identity or a credential) is compromised: breadth first over
 * the graph, one SQL statement per level, each node visited once. From an identity: its active
 * credentials, identities sharing a credential's fingerprint, its live sessions and the sessions
 * derived from them, identities it delegates to, workloads that trust it; then the resources
 * every reached identity can access.
 */
export async function blastRadius(db: Executor, start: NodeRef, options: BlastRadiusOptions = {}): Promise<BlastRadius> {
  const depth = Math.min(options.depth ?? 6, MAX_DEPTH);
  const limit = Math.min(options.limit ?? 2000, MAX_NODES);
  const startLabel = await labelOfStart(db, start);

  const nodes = new Map<string, BlastRadiusNode>();
  nodes.set(key(start), { ...start, depth: 0, via: 'start', label: startLabel });
  let frontier: NodeRef[] = [start];
  let truncated = false;

  for (let level = 1; level <= depth && frontier.length > 0 && !truncated; level++) {
    const next: NodeRef[] = [];
    for (const r of await expand(db, frontier)) {
      const k = key(r);
      if (nodes.has(k)) continue;
      if (nodes.size >= limit) {
        truncated = true;
        break;
      }
      nodes.set(k, { type: r.type, id: r.id, depth: level, via: r.via, from: { type: r.fromType, id: r.fromId }, label: '' });
      next.push(r);
    }
    frontier = next;
  }

  const all = [...nodes.values()];
  const idsOf = (type: NodeType) => all.filter((n) => n.type === type).map((n) => n.id);
  const identities = idsOf('identity');
  const [labels, resources] = await Promise.all([labelNodes(db, all), reachableResources(db, identities)]);
  for (const node of all) node.label = labels.get(key(node))?.label ?? node.label;

  return {
    start,
    depth,
    truncated,
    nodes: all,
    identities,
    credentials: idsOf('credential'),
    sessions: idsOf('session'),
    resources,
    revocationImpact: revocationImpact(start, all, labels),
  };
}

function key(node: NodeRef): string {
  return `${node.type}:${node.id}`;
}

/** One level of the walk: everything one edge away from the frontier. */
async function expand(db: Executor, frontier: NodeRef[]): Promise<Reached[]> {
  const of = (type: NodeType) => frontier.filter((n) => n.type === type).map((n) => n.id);
  const identities = of('identity');
  const credentials = of('credential');
  const sessions = of('session');
  const { rows } = await sql<Reached>`
    select 'credential' as type, c.id, 'identity' as from_type, c.identity_id as from_id, 'uses' as via
      from credentials c where c.identity_id = any(${identities}::text[]) and c.status = 'active'
    union all
    select 'session', s.id, 'identity', s.identity_id, 'issued_to'
      from sessions s where s.identity_id = any(${identities}::text[]) and s.status = 'active'
       and (s.expires_at is null or s.expires_at > now())
    union all
    select 'identity', e.to_id, 'identity', e.from_id, 'delegates_to'
      from edges e where e.from_id = any(${identities}::text[]) and e.kind = 'delegates_to'
    union all
    select 'identity', e.from_id, 'identity', e.to_id, 'trusts'
      from edges e where e.to_id = any(${identities}::text[]) and e.kind = 'trusts'
    union all
    select 'identity', c.identity_id, 'credential', c.id, 'uses'
      from credentials c where c.id = any(${credentials}::text[])
    union all
    select x.type, x.id, 'credential', x.from_id, 'shares_credential'
      from credentials c1
      join credentials c2 on c2.fingerprint = c1.fingerprint and c2.id <> c1.id and c2.status = 'active'
      cross join lateral (values ('credential', c2.id, c1.id), ('identity', c2.identity_id, c1.id)) as x(type, id, from_id)
     where c1.id = any(${credentials}::text[]) and c1.fingerprint is not null
    union all
    select 'session', s.id, 'session', s.parent_session_id, 'derived_from'
      from sessions s where s.parent_session_id = any(${sessions}::text[]) and s.status = 'active'
       and (s.expires_at is null or s.expires_at > now())
  `.execute(db);
  return rows;
}

interface Label {
  label: string;
  name?: string;
  kind?: IdentityKind;
  status?: IdentityStatus;
  criticality?: Criticality;
  tags?: string[];
}

async function labelNodes(db: Executor, nodes: BlastRadiusNode[]): Promise<Map<string, Label>> {
  const ids = (type: NodeType) => nodes.filter((n) => n.type === type).map((n) => n.id);
  const labels = new Map<string, Label>();
  const [identities, credentials, sessions] = await Promise.all([
    pick(ids('identity'), (list) => db.selectFrom('identities').select(['id', 'name', 'kind', 'status', 'criticality', 'tags']).where(anyOf('id', list)).execute()),
    pick(ids('credential'), (list) => db.selectFrom('credentials').select(['id', 'name', 'type']).where(anyOf('id', list)).execute()),
    pick(ids('session'), (list) => db.selectFrom('sessions').select(['id', 'source', 'jti']).where(anyOf('id', list)).execute()),
  ]);
  for (const i of identities) {
    labels.set(key({ type: 'identity', id: i.id }), {
      label: i.name, name: i.name, kind: i.kind as IdentityKind, status: i.status as IdentityStatus,
      criticality: i.criticality as Criticality, tags: i.tags,
    });
  }
  for (const c of credentials) labels.set(key({ type: 'credential', id: c.id }), { label: `${c.name} (${c.type})` });
  for (const s of sessions) labels.set(key({ type: 'session', id: s.id }), { label: s.jti ? `token ${s.jti}` : `session via ${s.source}` });
  return labels;
}

/** `column = any($1)`: one array parameter, however long the list (an `in` list binds one each). */
function anyOf(column: string, values: string[]) {
  return sql<boolean>`${sql.ref(column)} = any(${values}::text[])`;
}

async function pick<T>(ids: string[], query: (ids: string[]) => Promise<T[]>): Promise<T[]> {
  return ids.length ? query(ids) : [];
}

async function reachableResources(db: Executor, identities: string[]): Promise<ReachableResource[]> {
  if (identities.length === 0) return [];
  const rows = await db.selectFrom('grants')
    .innerJoin('resources', 'resources.id', 'grants.resourceId')
    .select(['resources.id', 'resources.name', 'resources.criticality', 'grants.permissions', 'grants.identityId'])
    .where(anyOf('grants.identityId', identities))
    .execute();
  const byResource = new Map<string, ReachableResource>();
  for (const row of rows) {
    const resource = byResource.get(row.id) ?? {
      id: row.id, name: row.name, criticality: row.criticality as Criticality, permissions: [], through: [],
    };
    resource.permissions = [...new Set([...resource.permissions, ...row.permissions])].sort();
    resource.through.push(row.identityId);
    byResource.set(row.id, resource);
  }
  return [...byResource.values()].sort((a, b) => criticalityRank(b.criticality) - criticalityRank(a.criticality) || a.id.localeCompare(b.id));
}

/**
 * Who stops working if the start is revoked: workloads that trust it, identities sharing one of
 * its credentials, identities it delegated to.
 */
function revocationImpact(start: NodeRef, nodes: BlastRadiusNode[], labels: Map<string, Label>): BlastRadius['revocationImpact'] {
  const startCredentials = new Set(
    start.type === 'credential'
      ? [start.id]
      : nodes.filter((n) => n.via === 'uses' && n.from?.id === start.id).map((n) => n.id),
  );
  const owner = start.type === 'credential' ? nodes.find((n) => n.via === 'uses' && n.from?.id === start.id)?.id : start.id;
  const consumers: Consumer[] = [];
  for (const node of nodes) {
    if (node.type !== 'identity') continue;
    const direct =
      ((node.via === 'trusts' || node.via === 'delegates_to') && node.from?.id === owner) ||
      (node.via === 'shares_credential' && startCredentials.has(node.from?.id ?? ''));
    if (!direct) continue;
    const label = labels.get(key(node));
    consumers.push({
      identityId: node.id,
      name: label?.name ?? node.id,
      kind: label?.kind ?? 'service_account',
      status: label?.status ?? 'active',
      relation: node.via as Consumer['relation'],
      criticality: label?.criticality ?? 'medium',
      customerFacing: label?.tags?.includes(TAG_CUSTOMER_FACING) ?? false,
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

async function labelOfStart(db: Executor, start: NodeRef): Promise<string> {
  if (start.type === 'identity') {
    const row = await db.selectFrom('identities').select('name').where('id', '=', start.id).executeTakeFirst();
    if (row) return row.name;
  } else if (start.type === 'credential') {
    const row = await db.selectFrom('credentials').select(['name', 'type']).where('id', '=', start.id).executeTakeFirst();
    if (row) return `${row.name} (${row.type})`;
  }
  throw new NotFoundError(`ERR_${start.type.toUpperCase()}_NOT_FOUND`, `${start.type} "${start.id}" does not exist`);
}
