import { sql } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Executor } from '../store/db.js';
import type { IdentityFacts } from '../ingest/resolve.js';
import { emptyBaseline, type Baseline } from './baseline.js';
import type { BaselineLookup } from './finding.js';

/**
 * Baselines of the identities seen lately, in memory (an LRU, so memory is bounded), loaded from
 * `baselines` on first use and written back in batches: at most once per `persistEveryMs`
 * (5 s: a crash loses that much learning, never an event), and on flush. An evicted baseline
 * that changed is written with the next batch.
 */
export function baselineStore(options: { max?: number; persistEveryMs?: number } = {}) {
  const cache = new LRUCache<string, Baseline>({ max: options.max ?? 50_000 });
  /** Baselines changed since the last write (kept even if the cache evicts them meanwhile). */
  const dirty = new Map<string, Baseline>();
  let lastPersist = 0;

  /** Makes the identities' baselines available; a new one starts from the identity's last use. */
  async function load(db: Executor, identities: Iterable<IdentityFacts>): Promise<BaselineLookup> {
    const wanted = new Map<string, IdentityFacts>();
    for (const i of identities) if (!wanted.has(i.id) && !cache.has(i.id) && !dirty.has(i.id)) wanted.set(i.id, i);
    if (wanted.size) {
      const rows = await db.selectFrom('baselines').select(['identityId', 'state'])
        .where('identityId', '=', sql<string>`any(${[...wanted.keys()]}::text[])`).execute();
      const stored = new Map(rows.map((r) => [r.identityId, r.state as unknown as Baseline]));
      for (const identity of wanted.values()) cache.set(identity.id, stored.get(identity.id) ?? emptyBaseline(identity.lastUsedAt?.getTime() ?? null));
    }
    // What this batch reads, it may change: marked dirty on first use, then found here.
    const used = new Map<string, Baseline>();
    return {
      get(identityId) {
        let baseline = used.get(identityId);
        if (baseline) return baseline;
        baseline = cache.get(identityId) ?? dirty.get(identityId);
        if (!baseline) {
          baseline = emptyBaseline();
          cache.set(identityId, baseline);
        }
        dirty.set(identityId, baseline);
        used.set(identityId, baseline);
        return baseline;
      },
    };
  }

  /** Writes changed baselines when it is time (or always, with `force`). */
  async function persist(db: Executor, force = false): Promise<number> {
    if (dirty.size === 0 || (!force && Date.now() - lastPersist < (options.persistEveryMs ?? 5000))) return 0;
    const rows = [...dirty.entries()];
    dirty.clear();
    lastPersist = Date.now();
    await sql`
      insert into baselines (identity_id, observations, state, updated_at)
      select id, observations, state::jsonb, now() from unnest(${rows.map(([id]) => id)}::text[], ${rows.map(([, b]) => b.observations)}::bigint[],
                                                       ${rows.map(([, b]) => JSON.stringify(b))}::text[]) as t(id, observations, state)
      on conflict (identity_id) do update set observations = excluded.observations, state = excluded.state, updated_at = now()`.execute(db);
    return rows.length;
  }

  return { load, persist, size: () => cache.size };
}

export type BaselineStore = ReturnType<typeof baselineStore>;
