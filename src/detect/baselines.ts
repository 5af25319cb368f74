import { sql } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Executor } from '../store/db.js';
import type { IdentityFacts } from '../ingest/resolve.js';
import { emptyBaseline, type Baseline } from './baseline.js';
import type { BaselineLookup } from './finding.js';

/**
 * One batch's view of the baselines: copies of the committed ones, which the batch's events change
 * as they are judged. `commit()`, once the batch's transaction has committed, makes them the
 * baselines; a batch rolled back leaves none of its learning behind, so when it is sent again
 * (a client's retry, a NATS redelivery) its events are judged as they were the first time.
 */
export interface BatchBaselines extends BaselineLookup {
  /** Writes the committed changes not yet written and this batch's, when it is time, in the batch's transaction. */
  persist(tx: Executor): Promise<number>;
  commit(): void;
}

/**
 * Baselines of the identities seen lately, in memory (an LRU, so memory is bounded), loaded from
 * `baselines` on first use and written back in batches: at most once per `persistEveryMs`
 * (5 s: a crash loses that much learning, never an event), and on flush. An evicted baseline
 * that changed is written with the next batch.
 */
export function baselineStore(options: { max?: number; persistEveryMs?: number } = {}) {
  const cache = new LRUCache<string, Baseline>({ max: options.max ?? 50_000 });
  /** Committed baselines changed since the last write (kept even if the cache evicts them meanwhile). */
  const dirty = new Map<string, Baseline>();
  let lastPersist = 0;

  /** Makes the identities' baselines available to a batch; a new one starts from the identity's last use. */
  async function load(db: Executor, identities: Iterable<IdentityFacts>): Promise<BatchBaselines> {
    const wanted = new Map<string, IdentityFacts>();
    for (const i of identities) if (!wanted.has(i.id) && !cache.has(i.id) && !dirty.has(i.id)) wanted.set(i.id, i);
    if (wanted.size) {
      const rows = await db.selectFrom('baselines').select(['identityId', 'state'])
        .where('identityId', '=', sql<string>`any(${[...wanted.keys()]}::text[])`).execute();
      const stored = new Map(rows.map((r) => [r.identityId, r.state as unknown as Baseline]));
      for (const identity of wanted.values()) cache.set(identity.id, stored.get(identity.id) ?? emptyBaseline(identity.lastUsedAt?.getTime() ?? null));
    }
    // What this batch reads, it may change: copied on first use, then found here.
    const used = new Map<string, Baseline>();
    /** The committed changes this batch's transaction wrote, if it wrote them. */
    let written: Map<string, Baseline> | undefined;
    return {
      get(identityId) {
        let baseline = used.get(identityId);
        if (baseline) return baseline;
        const committed = dirty.get(identityId) ?? cache.get(identityId);
        baseline = committed ? copyBaseline(committed) : emptyBaseline();
        used.set(identityId, baseline);
        return baseline;
      },
      async persist(tx) {
        if (Date.now() - lastPersist < (options.persistEveryMs ?? 5000) || (dirty.size === 0 && used.size === 0)) return 0;
        written = new Map(dirty);
        const rows = new Map(dirty);
        for (const [id, baseline] of used) rows.set(id, baseline);
        await write(tx, rows);
        return rows.size;
      },
      commit() {
        for (const [id, baseline] of used) cache.set(id, baseline);
        if (written) {
          for (const [id, baseline] of written) if (dirty.get(id) === baseline) dirty.delete(id);
          for (const id of used.keys()) dirty.delete(id);
          lastPersist = Date.now();
        } else {
          for (const [id, baseline] of used) dirty.set(id, baseline);
        }
      },
    };
  }

  /** Writes every committed change now (on shutdown, and in tests). */
  async function flush(db: Executor): Promise<number> {
    if (dirty.size === 0) return 0;
    const rows = new Map(dirty);
    await write(db, rows);
    for (const [id, baseline] of rows) if (dirty.get(id) === baseline) dirty.delete(id);
    lastPersist = Date.now();
    return rows.size;
  }

  return { load, flush, size: () => cache.size };
}

export type BaselineStore = ReturnType<typeof baselineStore>;

function copyBaseline(b: Baseline): Baseline {
  return { ...b, sources: { ...b.sources }, targets: { ...b.targets }, scopes: { ...b.scopes }, issuance: { ...b.issuance } };
}

async function write(db: Executor, rows: Map<string, Baseline>): Promise<void> {
  const entries = [...rows];
  await sql`
    insert into baselines (identity_id, observations, state, updated_at)
    select id, observations, state::jsonb, now() from unnest(${entries.map(([id]) => id)}::text[], ${entries.map(([, b]) => b.observations)}::bigint[],
                                                     ${entries.map(([, b]) => JSON.stringify(b))}::text[]) as t(id, observations, state)
    on conflict (identity_id) do update set observations = excluded.observations, state = excluded.state, updated_at = now()`.execute(db);
}
