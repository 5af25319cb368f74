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
 * are made once per batch, one query per kind of reference; misses are cached too.
 */
export function identityResolver(db: Db, options: ResolverOptions = {}) {
  const cache = <V extends {}>() => new LRUCache<string, V>({ max: options.max ?? 50_000, ttl: options.ttlMs ?? 5_000 });
  const identities = cache<{ facts: IdentityFacts | null }>();
  const byExternalRef = cache<IdentityFacts[]>();
  const byFingerprint = cache<CredentialFacts[]>();
  const byCredentialRef = cache<CredentialFacts[]>();
  const byJti = cache<{ session: SessionFacts | null }>();

  async function resolve(requests: ResolveRequest[], executor: Executor = db): Promise<Resolution[]> {
    const missing = <V extends {}>(c: LRUCache<string, V>, keys: string[]) => [...new Set(keys)].filter((k) => !c.has(k));
    const fps = missing(byFingerprint, requests.flatMap((r) => r.fingerprints));
    const credRefs = missing(byCredentialRef, requests.flatMap((r) => r.refs.credentialRefs));
    const extRefs = missing(byExternalRef, requests.flatMap((r) => r.refs.externalRefs.map((e) => e.value)));
    const jtis = missing(byJti, requests.flatMap((r) => r.refs.jtis));
    await Promise.all([
      fps.length && loadCredentials(executor, 'fingerprint', fps).then((rows) => fill(byFingerprint, fps, rows, (c) => c.fingerprint!)),
      credRefs.length && loadCredentials(executor, 'externalRef', credRefs).then((rows) => fill(byCredentialRef, credRefs, rows, (c) => c.externalRef!)),
      extRefs.length && loadIdentities(executor, 'externalRef', extRefs).then((rows) => {
        fill(byExternalRef, extRefs, rows, (i) => i.externalRef!);
        for (const row of rows) identities.set(row.id, { facts: row });
      }),
      jtis.length && loadSessions(executor, jtis).then((rows) => {
        const found = new Map(rows.map((s) => [s.jti, s]));
        for (const jti of jtis) byJti.set(jti, { session: found.get(jti) ?? null });
      }),
    ]);
    // Identities named directly, or owning a matched credential or session.
    const owners = requests.flatMap((r) => [
      ...r.refs.identityIds,
      ...r.fingerprints.flatMap((f) => byFingerprint.get(f) ?? []).map((c) => c.identityId),
      ...r.refs.credentialRefs.flatMap((c) => byCredentialRef.get(c) ?? []).map((c) => c.identityId),
      ...r.refs.jtis.map((j) => byJti.get(j)?.session?.identityId).filter((id): id is string => id !== undefined),
    ]);
    const ids = missing(identities, owners);
    if (ids.length) {
      const rows = await loadIdentities(executor, 'id', ids);
      const found = new Map(rows.map((i) => [i.id, i]));
      for (const id of ids) identities.set(id, { facts: found.get(id) ?? null });
    }
    return requests.map((r) => resolveOne(r));
  }

  function resolveOne(request: ResolveRequest): Resolution {
    const fingerprinted = dedupe(request.fingerprints.flatMap((f) => byFingerprint.get(f) ?? []));
    const named = dedupe(request.refs.credentialRefs.flatMap((c) => byCredentialRef.get(c) ?? []));
    const sessions = dedupe(request.refs.jtis.map((j) => byJti.get(j)?.session).filter((s): s is SessionFacts => !!s));
    const found = new Map<string, IdentityFacts>();
    const add = (id: string) => {
      const facts = identities.get(id)?.facts;
      if (facts) found.set(id, facts);
    };
    request.refs.identityIds.forEach(add);
    for (const ref of request.refs.externalRefs) {
      for (const facts of byExternalRef.get(ref.value) ?? []) if (!ref.provider || ref.provider === facts.provider) found.set(facts.id, facts);
    }
    [...fingerprinted, ...named, ...sessions].forEach((x) => add(x.identityId));
    return { identities: [...found.values()], byFingerprint: fingerprinted, byCredentialRef: named, sessions };
  }

  function fill<V>(c: LRUCache<string, V[]>, keys: string[], rows: V[], keyOf: (row: V) => string) {
    const groups = new Map<string, V[]>(keys.map((k) => [k, []]));
    for (const row of rows) groups.get(keyOf(row))?.push(row);
    for (const [k, v] of groups) c.set(k, v);
  }

  return {
    resolve,
    /** Forgets every lookup: after containment changed statuses here (a rotated credential must read rotated at once). */
    invalidate(): void {
      for (const c of [identities, byExternalRef, byFingerprint, byCredentialRef, byJti]) c.clear();
    },
  };
}

export type IdentityResolver = ReturnType<typeof identityResolver>;

function dedupe<T extends { id: string }>(items: T[]): T[] {
  return [...new Map(items.map((i) => [i.id, i])).values()];
}

async function loadCredentials(db: Executor, by: 'fingerprint' | 'externalRef', keys: string[]) {
  return db.selectFrom('credentials')
    .select(['id', 'identityId', 'type', 'status', 'expiresAt', 'fingerprint', 'externalRef'])
    .where(by, '=', sql<string>`any(${keys}::text[])`).execute();
}

async function loadIdentities(db: Executor, by: 'id' | 'externalRef', keys: string[]): Promise<IdentityFacts[]> {
  const rows = await db.selectFrom('identities')
    .select(['id', 'name', 'kind', 'provider', 'environment', 'status', 'criticality', 'tags', 'schedule', 'lastUsedAt', 'externalRef'])
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

function toIdentity(row: { id: string; name: string; externalRef: string | null; kind: string; provider: string; environment: string; status: string; criticality: string; tags: string[]; schedule: unknown; lastUsedAt: Date | null }): IdentityFacts {
  return {
    id: row.id, name: row.name, externalRef: row.externalRef, kind: row.kind, provider: row.provider as Provider, environment: row.environment, status: row.status,
    criticality: row.criticality, tags: row.tags, schedule: row.schedule as Schedule | null, lastUsedAt: row.lastUsedAt,
  };
}
