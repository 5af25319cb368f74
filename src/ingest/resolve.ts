import { sql } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Provider } from '../domain/identity.js';
import type { Db, Executor } from '../store/db.js';
import type { IdentityRefs } from './event.js';

export interface Schedule {
  timezone: string;
  days: string[];
  hours: string;
}

/** What detection needs to know about an identity, read once and cached. */
export interface IdentityFacts {
  id: string;
  name: string;
  externalRef: string | null;
  kind: string;
  provider: string;
  environment: string;
  status: string;
  criticality: string;
  tags: string[];
  schedule: Schedule | null;
  lastUsedAt: Date | null;
  /** Until when a response step (`raise_monitoring`) asked to watch the identity closely. */
  watchedUntil: Date | null;
}

export interface CredentialFacts {
  id: string;
  externalRef: string | null;
  identityId: string;
  type: string;
  status: string;
  expiresAt: Date | null;
  fingerprint: string | null;
}

export interface SessionFacts {
  id: string;
  identityId: string;
  jti: string;
  status: string;
  expiresAt: Date | null;
  parentJti: string | null;
}

/** The identities a record resolved to, and how. */
export interface Resolution {
  identities: IdentityFacts[];
  /** Credentials whose fingerprint equals a leaked value's. */
  byFingerprint: CredentialFacts[];
  /** Credentials named by their provider id (an access key id). */
  byCredentialRef: CredentialFacts[];
  /** Sessions named by a token's jti. */
  sessions: SessionFacts[];
}

export interface ResolveRequest {
  refs: IdentityRefs;
  fingerprints: string[];
}

export interface ResolverOptions {
  /** Entries per cache (identities, external refs, fingerprints, credential refs, jtis). */
  max?: number;
  /**
   * How long a lookup is trusted. Status matters (a revoked credential used again is a
   * detection): keep it short.
   */
  ttlMs?: number;
}

/**
 * Resolves records to identities by id, external ref (with provider when the format says it),
 * credential fingerprint, credential external ref and token jti. Lookups missing from the caches
 * are made once per batch, one query per kind of reference; misses are cached too. Each distinct
 * key is read from its cache once per batch, and a batch resolves against what it read (an entry
 * expiring meanwhile cannot drop a match).
 */
export function identityResolver(db: Db, options: ResolverOptions = {}) {
  const cache = <V extends {}>() => new LRUCache<string, V>({ max: options.max ?? 50_000, ttl: options.ttlMs ?? 5_000 });
  const identities = cache<{ facts: IdentityFacts | null }>();
  const byExternalRef = cache<IdentityFacts[]>();
  const byFingerprint = cache<CredentialFacts[]>();
  const byCredentialRef = cache<CredentialFacts[]>();
  const byJti = cache<{ session: SessionFacts | null }>();

  /**
   * A batch's resolver: resolves its records in as many calls as suits the caller (slice by
   * slice), reading each key from the caches once for the whole batch.
   */
  function batch(executor: Executor = db) {
    const fps = batchView(byFingerprint);
    const credRefs = batchView(byCredentialRef);
    const extRefs = batchView(byExternalRef);
    const jtis = batchView(byJti);
    const ids = batchView(identities);
    return { resolve: (requests: ResolveRequest[]) => resolveIn(requests, executor, fps, credRefs, extRefs, jtis, ids) };
  }

  async function resolveIn(
    requests: ResolveRequest[], executor: Executor, fps: ListView<CredentialFacts>, credRefs: ListView<CredentialFacts>,
    extRefs: ListView<IdentityFacts>, jtis: View<{ session: SessionFacts | null }>, ids: View<{ facts: IdentityFacts | null }>,
  ): Promise<Resolution[]> {
    for (const r of requests) {
      for (const f of r.fingerprints) fps.want(f);
      for (const c of r.refs.credentialRefs) credRefs.want(c);
      for (const e of r.refs.externalRefs) extRefs.want(e.value);
      for (const j of r.refs.jtis) jtis.want(j);
    }
    await Promise.all([
      fps.missing.size && loadCredentials(executor, 'fingerprint', [...fps.missing]).then((rows) => fillGroups(fps, rows, (c) => c.fingerprint!)),
      credRefs.missing.size && loadCredentials(executor, 'externalRef', [...credRefs.missing]).then((rows) => fillGroups(credRefs, rows, (c) => c.externalRef!)),
      extRefs.missing.size && loadIdentities(executor, 'externalRef', [...extRefs.missing]).then((rows) => {
        fillGroups(extRefs, rows, (i) => i.externalRef!);
        for (const row of rows) ids.put(row.id, { facts: row });
      }),
      jtis.missing.size && loadSessions(executor, [...jtis.missing]).then((rows) => {
        const found = new Map(rows.map((s) => [s.jti, s]));
        for (const jti of jtis.missing) jtis.put(jti, { session: found.get(jti) ?? null });
        jtis.missing.clear();
      }),
    ]);
    // Identities named directly, or owning a matched credential or session.
    for (const r of requests) {
      for (const id of r.refs.identityIds) ids.want(id);
      for (const f of r.fingerprints) for (const c of listed(fps, f)) ids.want(c.identityId);
      for (const ref of r.refs.credentialRefs) for (const c of listed(credRefs, ref)) ids.want(c.identityId);
      for (const j of r.refs.jtis) {
        const session = jtis.found.get(j)?.session;
        if (session) ids.want(session.identityId);
      }
    }
    if (ids.missing.size) {
      const rows = await loadIdentities(executor, 'id', [...ids.missing]);
      const found = new Map(rows.map((i) => [i.id, i]));
      for (const id of ids.missing) ids.put(id, { facts: found.get(id) ?? null });
      ids.missing.clear();
    }

    return requests.map((request) => {
      const fingerprinted: CredentialFacts[] = [];
      for (const f of request.fingerprints) for (const c of listed(fps, f)) addOnce(fingerprinted, c);
      const named: CredentialFacts[] = [];
      for (const ref of request.refs.credentialRefs) for (const c of listed(credRefs, ref)) addOnce(named, c);
      const sessions: SessionFacts[] = [];
      for (const j of request.refs.jtis) {
        const session = jtis.found.get(j)?.session;
        if (session) addOnce(sessions, session);
      }
      const found: IdentityFacts[] = [];
      for (const id of request.refs.identityIds) addIdentity(found, ids.found, id);
      for (const ref of request.refs.externalRefs) {
        for (const facts of listed(extRefs, ref.value)) if (!ref.provider || ref.provider === facts.provider) addOnce(found, facts);
      }
      for (const c of fingerprinted) addIdentity(found, ids.found, c.identityId);
      for (const c of named) addIdentity(found, ids.found, c.identityId);
      for (const s of sessions) addIdentity(found, ids.found, s.identityId);
      return { identities: found, byFingerprint: fingerprinted, byCredentialRef: named, sessions };
    });
  }

  return {
    batch,
    /** Resolves one batch of records. */
    resolve: (requests: ResolveRequest[], executor: Executor = db) => batch(executor).resolve(requests),
    /** Forgets every lookup: after containment changed statuses here (a rotated credential must read rotated at once). */
    invalidate(): void {
      for (const c of [identities, byExternalRef, byFingerprint, byCredentialRef, byJti]) c.clear();
    },
  };
}

/** One batch's reading of a cache: what it found, what it must load, and what it loaded. */
function batchView<V extends {}>(lru: LRUCache<string, V>) {
  const found = new Map<string, V>();
  const missing = new Set<string>();
  const put = (key: string, value: V) => {
    lru.set(key, value);
    found.set(key, value);
  };
  return {
    found,
    missing,
    put,
    want(key: string) {
      if (found.has(key) || missing.has(key)) return;
      const value = lru.get(key);
      if (value === undefined) missing.add(key);
      else found.set(key, value);
    },
  };
}

type View<V extends {}> = ReturnType<typeof batchView<V>>;
type ListView<T> = View<T[]>;

/** Rows loaded for a view's missing keys, grouped by key; a key nothing matched is cached empty. */
function fillGroups<R>(view: ListView<R>, rows: R[], keyOf: (row: R) => string): void {
  const groups = new Map<string, R[]>();
  for (const key of view.missing) groups.set(key, []);
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  for (const [key, group] of groups) view.put(key, group);
  view.missing.clear();
}

/** A list-valued entry of a view (empty when absent). */
function listed<T>(view: ListView<T>, key: string): readonly T[] {
  return view.found.get(key) ?? [];
}

function addIdentity(list: IdentityFacts[], known: Map<string, { facts: IdentityFacts | null }>, id: string): void {
  const facts = known.get(id)?.facts;
  if (facts) addOnce(list, facts);
}

/** Adds an item unless one with its id is there (lists here hold a handful). */
function addOnce<T extends { id: string }>(list: T[], item: T): void {
  for (const x of list) if (x.id === item.id) return;
  list.push(item);
}

export type IdentityResolver = ReturnType<typeof identityResolver>;

async function loadCredentials(db: Executor, by: 'fingerprint' | 'externalRef', keys: string[]) {
  return db.selectFrom('credentials')
    .select(['id', 'identityId', 'type', 'status', 'expiresAt', 'fingerprint', 'externalRef'])
    .where(by, '=', sql<string>`any(${keys}::text[])`).execute();
}

async function loadIdentities(db: Executor, by: 'id' | 'externalRef', keys: string[]): Promise<IdentityFacts[]> {
  const rows = await db.selectFrom('identities')
    .select(['id', 'name', 'kind', 'provider', 'environment', 'status', 'criticality', 'tags', 'schedule', 'lastUsedAt', 'externalRef'])
    .select((eb) => eb.selectFrom('monitoringWatches').select(sql<Date | null>`max(until)`.as('until')).whereRef('monitoringWatches.identityId', '=', 'identities.id').as('watchedUntil'))
    .where(by, '=', sql<string>`any(${keys}::text[])`).execute();
  return rows.map(toIdentity);
}

async function loadSessions(db: Executor, jtis: string[]): Promise<SessionFacts[]> {
  const rows = await db.selectFrom('sessions as s')
    .leftJoin('sessions as p', 'p.id', 's.parentSessionId')
    .select(['s.id', 's.identityId', 's.jti', 's.status', 's.expiresAt', 'p.jti as parentJti'])
    .where('s.jti', '=', sql<string>`any(${jtis}::text[])`).execute();
  return rows.map((r) => ({ ...r, jti: r.jti! }));
}

function toIdentity(row: { id: string; name: string; externalRef: string | null; kind: string; provider: string; environment: string; status: string; criticality: string; tags: string[]; schedule: unknown; lastUsedAt: Date | null; watchedUntil: Date | null }): IdentityFacts {
  return {
    id: row.id, name: row.name, externalRef: row.externalRef, kind: row.kind, provider: row.provider as Provider, environment: row.environment, status: row.status,
    criticality: row.criticality, tags: row.tags, schedule: row.schedule as Schedule | null, lastUsedAt: row.lastUsedAt,
    watchedUntil: row.watchedUntil ? new Date(row.watchedUntil) : null,
  };
}
