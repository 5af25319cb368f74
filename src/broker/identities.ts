import { sql } from 'kysely';
import type { IdentityStatus } from '../domain/identity.js';
import type { Db } from '../store/db.js';

export interface IdentityFacts {
  id: string;
  kind: string;
  provider: string;
  status: IdentityStatus;
  externalRef: string | null;
  connectorId: string | null;
}

/**
 * Reads identities for the broker, batching every lookup made in the same turn of the event loop
 * into one query: thousands of exchanges a second become a few dozen queries, and each still sees
 * the identity's status as it is now (a quarantine applies to the next exchange).
 */
export function identityLoader(deps: { db: Db }) {
  const byId = batcher<string, IdentityFacts>(async (ids) => {
    const rows = await deps.db.selectFrom('identities')
      .select(['id', 'kind', 'provider', 'status', 'externalRef', 'connectorId'])
      .where(sql<boolean>`id = any(${ids}::text[])`).execute();
    return new Map(rows.map((r) => [r.id, r as IdentityFacts]));
  });
  const byRef = batcher<string, IdentityFacts>(async (keys) => {
    const refs = [...new Set(keys.map((k) => k.slice(k.indexOf('\u0000') + 1)))];
    const rows = await deps.db.selectFrom('identities')
      .select(['id', 'kind', 'provider', 'status', 'externalRef', 'connectorId'])
      .where(sql<boolean>`external_ref = any(${refs}::text[])`).orderBy('id').execute();
    const found = new Map<string, IdentityFacts>();
    for (const row of rows) {
      const key = `${row.provider}\u0000${row.externalRef}`;
      // One external ref per provider and connector; several connectors of one provider are ambiguous.
      if (found.has(key)) found.set(key, { ...found.get(key)!, id: '' });
      else found.set(key, row as IdentityFacts);
    }
    return found;
  });
  return {
    load: (id: string) => byId(id),
    /** The identity a provider knows by `externalRef`; undefined when none or several match. */
    async byExternalRef(provider: string, externalRef: string): Promise<IdentityFacts | undefined> {
      const found = await byRef(`${provider}\u0000${externalRef}`);
      return found && found.id ? found : undefined;
    },
  };
}

export type IdentityLoader = ReturnType<typeof identityLoader>;

/** Collects keys asked for during one event-loop turn and resolves them with one call. */
function batcher<K, V>(fetch: (keys: K[]) => Promise<Map<K, V>>): (key: K) => Promise<V | undefined> {
  let pending: Map<K, ((value: V | undefined) => void)[]> | undefined;
  let failed: Map<K, ((error: unknown) => void)[]> | undefined;
  return (key) => new Promise<V | undefined>((resolve, reject) => {
    if (!pending) {
      pending = new Map();
      failed = new Map();
      const batch = pending;
      const rejects = failed;
      setImmediate(() => {
        pending = undefined;
        failed = undefined;
        fetch([...batch.keys()]).then(
          (found) => { for (const [k, resolvers] of batch) for (const r of resolvers) r(found.get(k)); },
          (error) => { for (const list of rejects.values()) for (const r of list) r(error); },
        );
      });
    }
    pending.set(key, [...(pending.get(key) ?? []), resolve]);
    failed!.set(key, [...(failed!.get(key) ?? []), reject]);
  });
}
