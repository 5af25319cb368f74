import { sql } from 'kysely';
import type { Criticality, IdentityKind, IdentityStatus } from '../domain/identity.js';
import type { Executor } from '../store/db.js';

export interface IdentityNode {
  name: string;
  kind: IdentityKind;
  status: IdentityStatus;
  criticality: Criticality;
  tags: string[];
}
export interface CredentialNode {
  identityId: string;
  name: string;
  type: string;
  fingerprint: string | null;
  status: string;
}
export interface SessionNode {
  identityId: string;
  parentId: string | null;
  /** Epoch ms; null when the session does not expire. */
  expiresAt: number | null;
  label: string;
}
export interface GrantNode {
  identityId: string;
  resourceId: string;
  permissions: string[];
}
export interface ResourceNode {
  name: string;
  criticality: Criticality;
}

/** Secondary index: key → ids, with arrays (most lists are short) created only when non-empty. */
class Multi {
  readonly #map = new Map<string, string[]>();
  get(key: string): readonly string[] {
    return this.#map.get(key) ?? [];
  }
  add(key: string, value: string): void {
    const list = this.#map.get(key);
    if (!list) this.#map.set(key, [value]);
    else if (!list.includes(value)) list.push(value);
  }
  remove(key: string, value: string): void {
    const list = this.#map.get(key);
    if (!list) return;
    const i = list.indexOf(value);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
}

/**
 * Values repeated across millions of rows (kinds, statuses, types, tag lists) are kept once:
 * rows read from the database carry a fresh copy of each.
 */
class Interner {
  readonly #strings = new Map<string, string>();
  readonly #lists = new Map<string, string[]>();
  string<T extends string>(value: T): T {
    const known = this.#strings.get(value);
    if (known !== undefined) return known as T;
    this.#strings.set(value, value);
    return value;
  }
  list(values: string[]): string[] {
    const key = values.join('\u0000');
    const known = this.#lists.get(key);
    if (known) return known;
    const list = Object.freeze(values.map((v) => this.string(v))) as string[];
    this.#lists.set(key, list);
    return list;
  }
}

const PAGE = 20_000;
/** Change-log rows older than this are deleted; a process that has not synced for half of it reloads. */
const RETENTION_MS = 60 * 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * The identity graph in memory, for walks that touch thousands of nodes in a few milliseconds.
 * Loaded on first use, then kept in step with the database by reading the `graph_changes` log
 * (written by triggers, whoever the writer) before each query: changed rows are read again, so
 * the index sees every committed change, from any process, made before the query.
 *
 * Consistency: a change-log row is read again on every sync until its transaction is older than
 * the snapshot's xmin (every transaction below xmin has ended), so no commit is missed whatever
 * the order transactions commit in.
 */
export class IdentityGraph {
  readonly identities = new Map<string, IdentityNode>();
  readonly credentials = new Map<string, CredentialNode>();
  readonly credentialsOf = new Multi();
  readonly credentialsByFingerprint = new Multi();
  readonly sessions = new Map<string, SessionNode>();
  readonly sessionsOf = new Multi();
  readonly childSessions = new Multi();
  readonly grants = new Map<string, GrantNode>();
  readonly grantsOf = new Multi();
  readonly resources = new Map<string, ResourceNode>();
  readonly delegatesTo = new Multi();
  readonly trustedBy = new Multi();
  readonly #edges = new Map<string, { kind: string; from: string; to: string }>();

  readonly #db: Executor;
  readonly #intern = new Interner();
  #settled: string | null = null;
  #lastSync = 0;
  #lastPrune = 0;
  #syncing: Promise<void> | null = null;
  #again = false;

  constructor(db: Executor) {
    this.#db = db;
  }

  /** Brings the index up to date with everything committed before the call. */
  sync(): Promise<void> {
    if (this.#syncing) {
      // A sync in flight may have read the log before our caller's change: run one more after it.
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#syncOnce();
        } while (this.#again);
      } finally {
        this.#syncing = null;
      }
    })();
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    const now = Date.now();
    if (this.#settled === null || now - this.#lastSync > RETENTION_MS / 2) await this.#load();
    const horizon = await this.#horizon();
    const changes = await this.#db.selectFrom('graphChanges').select(['tableName', 'ids'])
      .where(sql<boolean>`xid >= ${this.#settled}::xid8`).orderBy('seq').execute();
    const byTable = new Map<string, Set<string>>();
    for (const change of changes) {
      const ids = byTable.get(change.tableName) ?? new Set<string>();
      for (const id of change.ids) ids.add(id);
      byTable.set(change.tableName, ids);
    }
    for (const [table, ids] of byTable) await this.#reload(table, [...ids]);
    this.#settled = horizon;
    this.#lastSync = now;
    if (now - this.#lastPrune > PRUNE_EVERY_MS) await this.#prune(now);
  }

  async #horizon(): Promise<string> {
    const { rows } = await sql<{ horizon: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`.execute(this.#db);
    return rows[0]!.horizon;
  }

  async #load(): Promise<void> {
    for (const map of [this.identities, this.credentials, this.sessions, this.grants, this.resources, this.#edges]) map.clear();
    for (const multi of [this.credentialsOf, this.credentialsByFingerprint, this.sessionsOf, this.childSessions, this.grantsOf, this.delegatesTo, this.trustedBy]) multi.clear();
    // Everything older than the horizon is in the tables read below; anything newer is in the log.
    this.#settled = await this.#horizon();
    for (const [table, loader] of LOADERS) {
      // Edge ids are numbers, every other id is text.
      let after: string | number = table === 'edges' ? 0 : '';
      for (;;) {
        const rows = await loader(this.#db, sql`id > ${after}`, PAGE);
        for (const row of rows) this.#put(table, row);
        if (rows.length < PAGE) break;
        after = table === 'edges' ? Number(rows.at(-1)!.id) : String(rows.at(-1)!.id);
      }
    }
  }

  async #reload(table: string, ids: string[]): Promise<void> {
    const loader = LOADERS.get(table);
    if (!loader) return;
    for (const id of ids) this.#drop(table, id);
    const rows = await loader(this.#db, table === 'edges'
      ? sql`id = any(${ids.map(Number)}::bigint[])`
      : sql`id = any(${ids}::text[])`);
    for (const row of rows) this.#put(table, row);
  }

  async #prune(now: number): Promise<void> {
    this.#lastPrune = now;
    for (const [id, session] of this.sessions) if (session.expiresAt !== null && session.expiresAt <= now) this.#drop('sessions', id);
    await this.#db.deleteFrom('graphChanges').where('at', '<', new Date(now - RETENTION_MS)).execute();
  }

  #put(table: string, row: Row): void {
    const id = String(row.id);
    const i = this.#intern;
    switch (table) {
      case 'identities':
        this.identities.set(id, { name: row.name, kind: i.string(row.kind), status: i.string(row.status), criticality: i.string(row.criticality), tags: i.list(row.tags) });
        break;
      case 'credentials':
        this.credentials.set(id, { identityId: row.identityId, name: i.string(row.name), type: i.string(row.type), fingerprint: row.fingerprint, status: i.string(row.status) });
        this.credentialsOf.add(row.identityId, id);
        if (row.fingerprint) this.credentialsByFingerprint.add(row.fingerprint, id);
        break;
      case 'sessions':
        // Only live sessions matter to a blast radius; ended or revoked ones leave the index.
        if (row.status !== 'active') return;
        this.sessions.set(id, {
          identityId: row.identityId, parentId: row.parentSessionId, expiresAt: row.expiresAt ? new Date(row.expiresAt).getTime() : null,
          label: row.jti ? `token ${row.jti}` : `session via ${row.source}`,
        });
        this.sessionsOf.add(row.identityId, id);
        if (row.parentSessionId) this.childSessions.add(row.parentSessionId, id);
        break;
      case 'grants':
        this.grants.set(id, { identityId: row.identityId, resourceId: row.resourceId, permissions: i.list(row.permissions) });
        this.grantsOf.add(row.identityId, id);
        break;
      case 'resources':
        this.resources.set(id, { name: row.name, criticality: row.criticality });
        break;
      case 'edges':
        this.#edges.set(id, { kind: i.string(row.kind), from: row.fromId, to: row.toId });
        if (row.kind === 'delegates_to') this.delegatesTo.add(row.fromId, row.toId);
        else this.trustedBy.add(row.toId, row.fromId);
        break;
    }
  }

  #drop(table: string, id: string): void {
    switch (table) {
      case 'identities':
        this.identities.delete(id);
        break;
      case 'credentials': {
        const c = this.credentials.get(id);
        if (!c) return;
        this.credentials.delete(id);
        this.credentialsOf.remove(c.identityId, id);
        if (c.fingerprint) this.credentialsByFingerprint.remove(c.fingerprint, id);
        break;
      }
      case 'sessions': {
        const s = this.sessions.get(id);
        if (!s) return;
        this.sessions.delete(id);
        this.sessionsOf.remove(s.identityId, id);
        if (s.parentId) this.childSessions.remove(s.parentId, id);
        break;
      }
      case 'grants': {
        const g = this.grants.get(id);
        if (!g) return;
        this.grants.delete(id);
        this.grantsOf.remove(g.identityId, id);
        break;
      }
      case 'resources':
        this.resources.delete(id);
        break;
      case 'edges': {
        const e = this.#edges.get(id);
        if (!e) return;
        this.#edges.delete(id);
        if (e.kind === 'delegates_to') this.delegatesTo.remove(e.from, e.to);
        else this.trustedBy.remove(e.to, e.from);
        break;
      }
    }
  }
}

// Rows as the loaders select them (camelCase by the store's plugin).
type Row = Record<string, any>;
type Loader = (db: Executor, where: ReturnType<typeof sql>, limit?: number) => Promise<Row[]>;

/** How each graph table is read, whole (paged by id) or by the ids a change names. */
const LOADERS = new Map<string, Loader>([
  ['identities', (db, where, limit) => select(db, sql`select id, name, kind, status, criticality, tags from identities`, where, limit)],
  ['credentials', (db, where, limit) => select(db, sql`select id, identity_id, name, type, fingerprint, status from credentials`, where, limit)],
  ['sessions', (db, where, limit) => select(db, sql`select id, identity_id, parent_session_id, expires_at, status, jti, source from sessions`, where, limit, sql`status = 'active'`)],
  ['grants', (db, where, limit) => select(db, sql`select id, identity_id, resource_id, permissions from grants`, where, limit)],
  ['resources', (db, where, limit) => select(db, sql`select id, name, criticality from resources`, where, limit)],
  ['edges', (db, where, limit) => select(db, sql`select id, kind, from_id, to_id from edges`, where, limit, sql`kind in ('delegates_to', 'trusts')`)],
]);

async function select(db: Executor, base: ReturnType<typeof sql>, where: ReturnType<typeof sql>, limit?: number, filter?: ReturnType<typeof sql>): Promise<Row[]> {
  const condition = filter ? sql`${where} and ${filter}` : where;
  const query = limit === undefined
    ? sql<Row>`${base} where ${condition}`
    : sql<Row>`${base} where ${condition} order by id limit ${limit}`;
  return (await query.execute(db)).rows;
}
