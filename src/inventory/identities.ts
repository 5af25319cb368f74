import { sql } from 'kysely';
import { NotFoundError } from '../domain/errors.js';
import type { GraphEdge } from '../domain/graph.js';
import type { Executor } from '../store/db.js';
import type { CredentialRow, GrantRow, IdentityRow, SessionRow } from '../store/schema.js';

export interface IdentityFilter {
  kind?: string;
  environment?: string;
  status?: string;
  provider?: string;
  connector?: string;
  /** Team id that owns the identity (primary or backup). */
  owner?: string;
  tag?: string;
  /** Substring of the name or id. */
  q?: string;
  /** Ids greater than this (keyset pagination). */
  after?: string;
  limit: number;
}

export interface IdentitySummary extends IdentityRow {
  owners: { team: string | null; backup: string | null };
  /** When the oldest active credential was created or last rotated. */
  oldestCredentialAt: Date | null;
}

export async function listIdentities(db: Executor, filter: IdentityFilter): Promise<{ items: IdentitySummary[]; nextCursor: string | null }> {
  let query = db.selectFrom('identities').selectAll('identities')
    .select((eb) => [
      eb.selectFrom('edges').select('toId').whereRef('edges.fromId', '=', 'identities.id')
        .where('edges.kind', '=', 'owned_by').where(sql`edges.attributes->>'role'`, '=', 'primary').limit(1).as('ownerTeam'),
      eb.selectFrom('edges').select('toId').whereRef('edges.fromId', '=', 'identities.id')
        .where('edges.kind', '=', 'owned_by').where(sql`edges.attributes->>'role'`, '=', 'backup').limit(1).as('backupTeam'),
      eb.selectFrom('credentials').select(sql<Date>`min(coalesce(credentials.last_rotated_at, credentials.created_at))`.as('at'))
        .whereRef('credentials.identityId', '=', 'identities.id').where('credentials.status', '=', 'active').as('oldestCredentialAt'),
    ])
    .orderBy('identities.id')
    .limit(filter.limit + 1);
  if (filter.kind) query = query.where('identities.kind', '=', filter.kind);
  if (filter.environment) query = query.where('identities.environment', '=', filter.environment);
  if (filter.status) query = query.where('identities.status', '=', filter.status);
  if (filter.provider) query = query.where('identities.provider', '=', filter.provider);
  if (filter.connector) query = query.where('identities.connectorId', '=', filter.connector);
  if (filter.tag) query = query.where(sql<boolean>`${filter.tag} = any(identities.tags)`);
  if (filter.after) query = query.where('identities.id', '>', filter.after);
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('identities.name', 'ilike', pattern), eb('identities.id', 'ilike', pattern)]));
  }
  if (filter.owner) {
    const owner = filter.owner;
    query = query.where((eb) => eb.exists(eb.selectFrom('edges').select('edges.id')
      .whereRef('edges.fromId', '=', 'identities.id').where('edges.kind', '=', 'owned_by').where('edges.toId', '=', owner)));
  }
  const rows = await query.execute();
  const page = rows.slice(0, filter.limit);
  return {
    items: page.map(({ ownerTeam, backupTeam, oldestCredentialAt, ...identity }) => ({
      ...identity,
      owners: { team: ownerTeam ?? null, backup: backupTeam ?? null },
      oldestCredentialAt: oldestCredentialAt ? new Date(oldestCredentialAt) : null,
    })),
    nextCursor: rows.length > filter.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

export interface CredentialView extends Omit<CredentialRow, 'identityId'> {
  /** Days since the value was created or last rotated. */
  ageDays: number;
  /** Other identities holding a credential with the same fingerprint. */
  sharedWith: string[];
}

export interface IdentityDetail extends IdentityRow {
  owners: { id: string; name: string; responsibility: string; channel: string | null; role: string }[];
  credentials: CredentialView[];
  sessions: SessionRow[];
  grants: (GrantRow & { resourceName: string; resourceCriticality: string })[];
  edges: GraphEdge[];
}

const SESSION_LIMIT = 200;

export async function identityDetail(db: Executor, id: string): Promise<IdentityDetail> {
  const identity = await db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
  if (!identity) throw new NotFoundError('ERR_IDENTITY_NOT_FOUND', `identity "${id}" does not exist`);
  const [owners, credentials, sessions, grants, stored] = await Promise.all([
    db.selectFrom('edges').innerJoin('teams', 'teams.id', 'edges.toId')
      .select(['teams.id', 'teams.name', 'teams.responsibility', 'teams.channel', sql<string>`edges.attributes->>'role'`.as('role')])
      .where('edges.kind', '=', 'owned_by').where('edges.fromId', '=', id).orderBy('role', 'desc').execute(),
    db.selectFrom('credentials').selectAll().where('identityId', '=', id).orderBy('createdAt').execute(),
    db.selectFrom('sessions').selectAll().where('identityId', '=', id)
      .orderBy(sql`status = 'active'`, 'desc').orderBy('issuedAt', 'desc').limit(SESSION_LIMIT).execute(),
    db.selectFrom('grants').innerJoin('resources', 'resources.id', 'grants.resourceId')
      .selectAll('grants').select(['resources.name as resourceName', 'resources.criticality as resourceCriticality'])
      .where('grants.identityId', '=', id).orderBy('grants.resourceId').execute(),
    db.selectFrom('edges').selectAll().where((eb) => eb.or([eb('fromId', '=', id), eb('toId', '=', id)]))
      .where('kind', 'in', ['trusts', 'delegates_to']).orderBy('id').execute(),
  ]);
  const fingerprints = credentials.map((c) => c.fingerprint).filter((f): f is string => f !== null);
  const sharing = fingerprints.length
    ? await db.selectFrom('credentials').select(['fingerprint', 'identityId'])
      .where('fingerprint', 'in', fingerprints).where('identityId', '<>', id).where('status', '=', 'active').execute()
    : [];
  const now = Date.now();
  const credentialViews = credentials.map(({ identityId: _owner, ...c }) => ({
    ...c,
    ageDays: Math.floor((now - (c.lastRotatedAt ?? c.createdAt).getTime()) / 86_400_000),
    sharedWith: [...new Set(sharing.filter((s) => s.fingerprint === c.fingerprint).map((s) => s.identityId))].sort(),
  }));
  const edges: GraphEdge[] = [
    ...owners.map((o) => edge('owned_by', 'identity', id, 'team', o.id, { role: o.role })),
    ...credentials.map((c) => edge('uses', 'identity', id, 'credential', c.id)),
    ...credentials.filter((c) => c.storedIn).map((c) => edge('stored_in', 'credential', c.id, 'location', `${c.storedIn!.kind}:${c.storedIn!.path}`)),
    ...credentialViews.flatMap((c) => c.sharedWith.map((other) => edge('shares_credential', 'identity', id, 'identity', other, { credential: c.id }))),
    ...sessions.filter((s) => s.status === 'active').map((s) => edge('issued_to', 'session', s.id, 'identity', id)),
    ...grants.map((g) => edge('accesses', 'identity', id, 'resource', g.resourceId, { permissions: g.permissions })),
    ...stored.map((e) => edge(e.kind as GraphEdge['kind'], 'identity', e.fromId, 'identity', e.toId, e.attributes)),
  ];
  return { ...identity, owners, credentials: credentialViews, sessions, grants, edges };
}

function edge(kind: GraphEdge['kind'], fromType: GraphEdge['from']['type'], fromId: string, toType: GraphEdge['to']['type'], toId: string, attributes: Record<string, unknown> = {}): GraphEdge {
  return { kind, from: { type: fromType, id: fromId }, to: { type: toType, id: toId }, attributes };
}
