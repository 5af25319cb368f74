import { sql } from 'kysely';
import type { IdentityKind, IdentityStatus } from '../domain/identity.js';
import type { Executor } from '../store/db.js';
import type { CedarValueJson, EntityJson } from './cedar.js';
import { IDENTITY_ENTITY_TYPES, TEAM_TYPE } from './vocabulary.js';

/**
 * What the decision point adds to a request: the time, the task, the principal's risk, and the
 * principal as an entity — all from Cordon's side, never from the caller.
 */

/** An identity's risk as the guard and policies see it. */
export interface PrincipalRisk {
  status: IdentityStatus | 'unknown';
  /** Open (not closed) incidents naming the identity; absent only where a source cannot tell. */
  openIncidents?: number;
}

/** Where risk comes from: the inventory gives the status, the incident workspace the open incidents. */
export interface RiskSource {
  /** `known`: the identities as this request already read them, so a source need not read them again. */
  riskOf(identityIds: readonly string[], known?: ReadonlyMap<string, IdentityFacts>): Promise<Map<string, PrincipalRisk>>;
}

/** An identity as the inventory describes it, for its Cedar entity. */
export interface IdentityFacts {
  id: string;
  kind: IdentityKind;
  name: string;
  environment: string;
  provider: string;
  criticality: string;
  tags: string[];
  /** Teams that own it (primary and backup). */
  teams: string[];
  status: IdentityStatus;
}

export interface IdentityDirectory {
  identitiesOf(ids: readonly string[]): Promise<Map<string, IdentityFacts>>;
}

const CONTAINED: ReadonlySet<string> = new Set<IdentityStatus>(['quarantined', 'disabled', 'offboarded']);

export function riskContext(risk: PrincipalRisk | undefined): Record<string, CedarValueJson> {
  const status = risk?.status ?? 'unknown';
  return {
    status,
    contained: CONTAINED.has(status),
    ...(risk?.openIncidents === undefined ? {} : { openIncidents: risk.openIncidents }),
  };
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The time of the request, in UTC. */
export function timeContext(now: Date): Record<string, CedarValueJson> {
  return { epochSeconds: Math.floor(now.getTime() / 1000), hour: now.getUTCHours(), weekday: WEEKDAYS[now.getUTCDay()]! };
}

export function identityEntity(facts: IdentityFacts): EntityJson {
  return {
    uid: { type: IDENTITY_ENTITY_TYPES[facts.kind], id: facts.id },
    attrs: { name: facts.name, environment: facts.environment, provider: facts.provider, criticality: facts.criticality, tags: facts.tags },
    parents: facts.teams.map((team) => ({ type: TEAM_TYPE, id: team })),
  };
}

/**
 * Both, read from the inventory tables on every request (one query when the request's identities
 * were just read): a quarantine takes effect on the next request.
 */
export function inventoryFacts(db: Executor): RiskSource & IdentityDirectory {
  return {
    async riskOf(ids, known) {
      const missing = ids.filter((id) => !known?.has(id));
      const [rows, incidents] = await Promise.all([
        missing.length ? db.selectFrom('identities').select(['id', 'status']).where('id', 'in', missing).execute() : [],
        ids.length ? openIncidentCounts(db, ids) : new Map<string, number>(),
      ]);
      const risk = new Map<string, PrincipalRisk>(rows.map((row) => [row.id, { status: row.status as IdentityStatus, openIncidents: incidents.get(row.id) ?? 0 }]));
      for (const id of ids) {
        const identity = known?.get(id);
        if (identity) risk.set(id, { status: identity.status, openIncidents: incidents.get(id) ?? 0 });
      }
      return risk;
    },
    async identitiesOf(ids) {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('identities')
        .select(['id', 'kind', 'name', 'environment', 'provider', 'criticality', 'tags', 'status'])
        .select((eb) => eb.selectFrom('edges').select(sql<string[]>`coalesce(array_agg(edges.to_id order by edges.to_id), '{}')`.as('teams'))
          .whereRef('edges.fromId', '=', 'identities.id').where('edges.kind', '=', 'owned_by').as('teams'))
        .where('id', 'in', [...ids])
        .execute();
      return new Map(rows.map((row) => [row.id, { ...row, kind: row.kind as IdentityKind, status: row.status as IdentityStatus, tags: row.tags ?? [], teams: row.teams ?? [] }]));
    },
  };
}

/** How many open incidents name each of the identities. */
async function openIncidentCounts(db: Executor, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await sql<{ id: string; n: number }>`
    select named.identity_id as id, count(*)::int as n from incidents i, unnest(i.identity_ids) as named(identity_id)
     where i.status <> 'closed' and i.identity_ids && ${[...ids]}::text[] and named.identity_id = any(${[...ids]}::text[])
     group by named.identity_id`.execute(db);
  return new Map(rows.rows.map((r) => [r.id, Number(r.n)]));
}
