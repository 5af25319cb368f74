import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import type { Discovery } from '../connectors/contract.js';
import { connectorType } from '../connectors/registry.js';
import { resolveSecretParams } from '../connectors/secret-params.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { validator } from '../domain/validation.js';
import type { Db, Tx } from '../store/db.js';
import { enqueueJob, type Job } from '../store/jobs.js';
import type { ConnectorRow } from '../store/schema.js';
import { upsertRows } from '../store/upsert.js';
import type { Sealer } from '../secrets/sealed.js';

export interface DiscoverySummary {
  connector: string;
  identities: { found: number; created: number; updated: number };
  sessions: { active: number; ended: number };
  resources: number;
  grants: { current: number; removed: number };
}

export interface DiscoveryDeps {
  db: Db;
  sealer: Pick<Sealer, 'open'>;
  /** Called after a job is queued, so a worker in this process picks it up at once. */
  onQueued?: () => void;
}

/** Job kind of a queued discovery run. */
export const DISCOVER_JOB = 'connector.discover';

/**
 * Reads a connector's system and brings the graph in line with it: new login accounts become
 * identities (source `discovery`), known ones get their discovered facts and login state, live
 * sessions are recorded and vanished ones ended, grants replaced by what the system says.
 */
export function discoveryService(deps: DiscoveryDeps) {
  async function discover(connectorId: string, actor: Actor): Promise<DiscoverySummary> {
    const connector = await deps.db.selectFrom('connectors').selectAll().where('id', '=', connectorId).executeTakeFirst();
    if (!connector) throw new NotFoundError('ERR_CONNECTOR_NOT_FOUND', `connector "${connectorId}" does not exist`);
    const type = connectorType(connector.type);
    if (!type.capabilities.includes('discover')) {
      throw new ConflictError('ERR_CONNECTOR_CANNOT_DISCOVER', `connector type "${type.type}" cannot discover`);
    }
    const params = validator(type.params).parse(
      await resolveSecretParams(type.params, connector.params, deps.sealer), 'ERR_CONNECTOR_PARAMS', `connector "${connectorId}" params`);
    const session = type.connect(params);
    let found: Discovery;
    try {
      found = await session.discover!();
    } finally {
      await session.close();
    }
    return deps.db.transaction().execute(async (tx) => {
      const summary = await applyDiscovery(tx, connector, type.provider, found);
      await appendAudit(tx, actor, { action: 'connector.discovered', subject: `connector:${connectorId}`, payload: { ...summary } });
      return summary;
    });
  }
  /** Queues a discovery run for any worker sharing the store. */
  async function queue(connectorId: string, actor: Actor): Promise<Job> {
    const exists = await deps.db.selectFrom('connectors').select('id').where('id', '=', connectorId).executeTakeFirst();
    if (!exists) throw new NotFoundError('ERR_CONNECTOR_NOT_FOUND', `connector "${connectorId}" does not exist`);
    const job = await enqueueJob(deps.db, { kind: DISCOVER_JOB, payload: { connectorId, actor: { id: actor.id, subject: actor.subject } }, createdBy: actor.id });
    deps.onQueued?.();
    return job;
  }

  const jobHandlers = {
    [DISCOVER_JOB]: async (job: Job) => {
      const { connectorId, actor } = job.payload as { connectorId: string; actor: Actor };
      return { ...(await discover(connectorId, actor)) };
    },
  };

  return { discover, queue, jobHandlers };
}

async function applyDiscovery(tx: Tx, connector: ConnectorRow, provider: string, found: Discovery): Promise<DiscoverySummary> {
  const known = new Map((await tx.selectFrom('identities').select(['id', 'externalRef', 'status'])
    .where('connectorId', '=', connector.id).where('externalRef', 'is not', null).execute())
    .map((i) => [i.externalRef!, i]));

  const created = await upsertRows(tx, 'identities', found.identities
    .filter((d) => d.canLogin && !known.has(d.externalRef))
    .map((d) => ({
      id: `${connector.id}:${d.externalRef}`, kind: d.kind, name: d.name, provider, connectorId: connector.id,
      externalRef: d.externalRef, environment: connector.environment ?? 'unknown', source: 'discovery',
      attributes: JSON.stringify({ discovered: d.attributes }),
    })), ['id']);
  const idOf = new Map(known);
  for (const d of found.identities) {
    if (d.canLogin && !idOf.has(d.externalRef)) idOf.set(d.externalRef, { id: `${connector.id}:${d.externalRef}`, externalRef: d.externalRef, status: 'active' });
  }

  let updated = 0;
  for (const d of found.identities) {
    const identity = known.get(d.externalRef);
    if (!identity) continue;
    // Cordon's own states (quarantined, offboarded) are kept; active/disabled follow the system.
    const status = identity.status === 'active' || identity.status === 'disabled' ? (d.canLogin ? 'active' : 'disabled') : identity.status;
    const result = await tx.updateTable('identities')
      .set({ status, attributes: sql`attributes || jsonb_build_object('discovered', ${JSON.stringify(d.attributes)}::jsonb)` as never, updatedAt: sql`now()` as never })
      .where('id', '=', identity.id)
      .where(sql<boolean>`(status, attributes->'discovered') is distinct from (${status}, ${JSON.stringify(d.attributes)}::jsonb)`)
      .executeTakeFirst();
    updated += Number(result.numUpdatedRows);
  }

  const source = `${connector.type}:${connector.id}`;
  const sessions = found.sessions.filter((s) => idOf.has(s.identityRef)).map((s) => ({
    id: `${connector.id}:${s.key}`, identityId: idOf.get(s.identityRef)!.id, source, status: 'active',
    issuedAt: s.issuedAt, attributes: JSON.stringify(s.attributes),
  }));
  await upsertRows(tx, 'sessions', sessions, ['id']);
  const ended = await tx.updateTable('sessions')
    .set({ status: 'ended', endedAt: sql`now()` as never, updatedAt: sql`now()` as never })
    .where('source', '=', source).where('status', '=', 'active')
    .$if(sessions.length > 0, (q) => q.where('id', 'not in', sessions.map((s) => s.id)))
    .executeTakeFirst();
  // An identity with a live session is in use now.
  const inUse = [...new Set(sessions.map((s) => s.identityId))];
  if (inUse.length) await tx.updateTable('identities').set({ lastUsedAt: sql`now()` as never }).where('id', 'in', inUse).execute();

  await upsertRows(tx, 'resources', found.resources.map((r) => ({
    id: `${connector.id}:${r.key}`, kind: r.kind, name: r.name, environment: connector.environment ?? undefined, source: 'discovery',
  })), ['id']);
  const grants = found.grants.filter((g) => idOf.has(g.identityRef)).map((g) => {
    const identityId = idOf.get(g.identityRef)!.id;
    const resourceId = `${connector.id}:${g.resourceKey}`;
    return { id: `${identityId}->${resourceId}`, identityId, resourceId, permissions: [...g.permissions].sort(), source: 'discovery' };
  });
  await upsertRows(tx, 'grants', grants, ['id']);
  const identityIds = [...new Set([...idOf.values()].map((i) => i.id))];
  const removed = identityIds.length
    ? await tx.deleteFrom('grants').where('source', '=', 'discovery').where('identityId', 'in', identityIds)
      .$if(grants.length > 0, (q) => q.where('id', 'not in', grants.map((g) => g.id))).executeTakeFirst()
    : { numDeletedRows: 0n };

  return {
    connector: connector.id,
    identities: { found: found.identities.length, created: created.created, updated },
    sessions: { active: sessions.length, ended: Number(ended.numUpdatedRows) },
    resources: found.resources.length,
    grants: { current: grants.length, removed: Number(removed.numDeletedRows) },
  };
}
