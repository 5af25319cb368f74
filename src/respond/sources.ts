import { sql } from 'kysely';
import type { BlastRadius } from '../domain/graph.js';
import type { CredentialType, IdentityKind } from '../domain/identity.js';
import { blastRadius } from '../inventory/blast-radius.js';
import type { IdentityGraph } from '../inventory/graph-index.js';
import type { Db } from '../store/db.js';
import type { PerformerRegistry } from './actions/index.js';
import type { PlanIdentity, PlanSources } from './planner.js';

/** Reads an identity the way the planner needs it: owners, credentials with sharing, delegations. */
export async function loadPlanIdentity(db: Db, id: string): Promise<PlanIdentity | undefined> {
  const row = await db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [owners, credentials, delegations, grants] = await Promise.all([
    db.selectFrom('edges').select(['toId', sql<string>`attributes->>'role'`.as('role')])
      .where('kind', '=', 'owned_by').where('fromId', '=', id).orderBy(sql`attributes->>'role' = 'primary'`, 'desc').orderBy('toId').execute(),
    db.selectFrom('credentials').select(['id', 'name', 'type', 'status', 'externalRef', 'replaces', 'fingerprint'])
      .where('identityId', '=', id).orderBy('createdAt').execute(),
    db.selectFrom('edges').select('toId').where('kind', '=', 'delegates_to').where('fromId', '=', id).orderBy('toId').execute(),
    db.selectFrom('grants').select(['resourceId', 'permissions']).where('identityId', '=', id).orderBy('resourceId').execute(),
  ]);
  const fingerprints = credentials.map((c) => c.fingerprint).filter((f): f is string => !!f);
  const sharing = fingerprints.length
    ? await db.selectFrom('credentials').select(['fingerprint', 'identityId'])
      .where('fingerprint', 'in', fingerprints).where('identityId', '<>', id).where('status', '=', 'active').execute()
    : [];
  return {
    id: row.id, name: row.name, kind: row.kind as IdentityKind, provider: row.provider, connectorId: row.connectorId,
    externalRef: row.externalRef, environment: row.environment, criticality: row.criticality, tags: row.tags ?? [],
    owners: owners.map((o) => o.toId),
    credentials: credentials.map((c) => ({
      id: c.id, name: c.name, type: c.type as CredentialType, status: c.status, externalRef: c.externalRef, replaces: c.replaces,
      sharedWith: [...new Set(sharing.filter((s) => s.fingerprint === c.fingerprint).map((s) => s.identityId))].sort(),
    })),
    delegatesTo: delegations.map((d) => d.toId),
    grants,
  };
}

/** Sources for one plan: identities and blast radii are read once each. */
export function planSources(deps: { db: Db; graph: IdentityGraph; performers: Pick<PerformerRegistry, 'performersFor'> }): PlanSources {
  const identities = new Map<string, Promise<PlanIdentity | undefined>>();
  const radii = new Map<string, Promise<BlastRadius>>();
  return {
    identity(id) {
      if (!identities.has(id)) identities.set(id, loadPlanIdentity(deps.db, id));
      return identities.get(id)!;
    },
    blastRadius(id) {
      if (!radii.has(id)) radii.set(id, blastRadius(deps.graph, { type: 'identity', id }));
      return radii.get(id)!;
    },
    performersFor: (action, selector, identity) => deps.performers.performersFor(action, selector, identity),
  };
}
