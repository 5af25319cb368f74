import { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import type { Db, Executor } from '../store/db.js';

/**
 * The revocation log. Every revocation is appended to `broker_revocations` in the transaction that
 * makes it, and every process replays the log into memory, so checking a token is a few map
 * lookups. Entries: a revoked token (`jti`), an ended task (task id), and an identity's broker
 * quarantine and its release. An entry is kept until the thing it names has expired.
 */
export type RevocationKind = 'token' | 'task' | 'quarantine' | 'release';

export interface RevocationEntry {
  seq: number;
  kind: RevocationKind;
  ref: string;
  expiresAt: Date;
}

export interface RevocationState {
  apply(entries: readonly RevocationEntry[]): void;
  tokenRevoked(jti: string): boolean;
  taskEnded(taskId: string): boolean;
  /** Until when the identity's broker tokens are quarantined (ms), or undefined. */
  quarantinedUntil(identityId: string): number | undefined;
  prune(): void;
}

export function revocationState(now: () => number): RevocationState {
  const tokens = new Map<string, number>();
  const tasks = new Map<string, number>();
  const quarantines = new Map<string, { seq: number; until: number }>();
  const releases = new Map<string, number>();
  return {
    apply(entries) {
      for (const e of entries) {
        const until = e.expiresAt.getTime();
        if (e.kind === 'token') tokens.set(e.ref, Math.max(until, tokens.get(e.ref) ?? 0));
        else if (e.kind === 'task') tasks.set(e.ref, Math.max(until, tasks.get(e.ref) ?? 0));
        else if (e.kind === 'quarantine') {
          // Entries may arrive out of order across processes: the latest by sequence wins.
          if ((quarantines.get(e.ref)?.seq ?? -1) < e.seq && (releases.get(e.ref) ?? -1) < e.seq) quarantines.set(e.ref, { seq: e.seq, until });
        } else if (e.kind === 'release') {
          releases.set(e.ref, Math.max(e.seq, releases.get(e.ref) ?? -1));
          const q = quarantines.get(e.ref);
          if (q && q.seq < e.seq) quarantines.delete(e.ref);
        }
      }
    },
    tokenRevoked: (jti) => tokens.has(jti),
    taskEnded: (taskId) => tasks.has(taskId),
    quarantinedUntil(identityId) {
      const q = quarantines.get(identityId);
      return q && q.until > now() ? q.until : undefined;
    },
    prune() {
      const t = now();
      for (const map of [tokens, tasks]) for (const [k, until] of map) if (until <= t) map.delete(k);
      for (const [k, q] of quarantines) if (q.until <= t) quarantines.delete(k);
    },
  };
}

/** Appends entries inside the caller's transaction; apply them locally once it commits. */
export async function appendRevocations(tx: Executor, entries: { kind: RevocationKind; ref: string; expiresAt: Date }[]): Promise<RevocationEntry[]> {
  if (entries.length === 0) return [];
  const rows = await tx.insertInto('brokerRevocations').values(entries).returning(['seq', 'kind', 'ref', 'expiresAt']).execute();
  return rows.map(toEntry);
}

/** A sequence number still missing after this long belongs to a rolled-back transaction. */
const GAP_TIMEOUT_MS = 10_000;

/**
 * Keeps one process's state in step with entries other processes append. Sequence numbers are
 * taken when a row is inserted but become visible when its transaction commits, possibly out of
 * order: the reader keeps a floor below which it has seen everything, re-reads above it, and skips
 * a hole only once it has stayed open longer than any revoking transaction takes.
 */
export function revocationSync(deps: { db: Db; state: RevocationState; now: () => number; intervalMs: number; onError?: (error: unknown) => void }) {
  const events = new EventEmitter();
  let floor = 0;
  const seen = new Set<number>();
  let holeSince: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  function advance(): void {
    while (seen.has(floor + 1)) seen.delete(++floor);
    if (seen.size === 0) {
      holeSince = undefined;
      return;
    }
    holeSince ??= deps.now();
    if (deps.now() - holeSince > GAP_TIMEOUT_MS) {
      floor = Math.min(...seen) - 1;
      holeSince = undefined;
      advance();
    }
  }

  async function readNew(): Promise<number> {
    const rows = await deps.db.selectFrom('brokerRevocations').select(['seq', 'kind', 'ref', 'expiresAt'])
      .where('seq', '>', floor).orderBy('seq').limit(10_000).execute();
    const fresh = rows.map(toEntry).filter((e) => !seen.has(e.seq));
    deps.state.apply(fresh);
    for (const e of fresh) seen.add(e.seq);
    advance();
    if (fresh.length) events.emit('applied', fresh);
    return fresh.length;
  }

  async function initial(): Promise<void> {
    // Everything still in force, then read from a little below the head so that transactions
    // still committing when this process starts are not missed.
    const rows = await deps.db.selectFrom('brokerRevocations').select(['seq', 'kind', 'ref', 'expiresAt'])
      .where('expiresAt', '>', new Date(deps.now())).orderBy('seq').execute();
    const entries = rows.map(toEntry);
    deps.state.apply(entries);
    const head = await deps.db.selectFrom('brokerRevocations').select(sql<string>`coalesce(max(seq), 0)`.as('head')).executeTakeFirstOrThrow();
    floor = Math.max(0, Number(head.head) - 1000);
    for (const e of entries) if (e.seq > floor) seen.add(e.seq);
  }

  function tick(): void {
    if (stopped) return;
    running = readNew()
      .then(() => deps.state.prune())
      .catch((error) => deps.onError?.(error))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, deps.intervalMs).unref();
      });
  }

  return {
    events,
    /** Loads what is in force and, when `poll`, starts reading what other processes append. */
    async start(poll: boolean): Promise<void> {
      await initial();
      if (poll) timer = setTimeout(tick, deps.intervalMs).unref();
    },
    /** Reads now (tests and the periodic sweep). */
    sync: () => readNew(),
    /** Marks entries this process appended (and applied) as seen. */
    seen(entries: readonly RevocationEntry[]) {
      for (const e of entries) if (e.seq > floor) seen.add(e.seq);
      advance();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type RevocationSync = ReturnType<typeof revocationSync>;

function toEntry(row: { seq: string | number | bigint; kind: string; ref: string; expiresAt: Date }): RevocationEntry {
  return { seq: Number(row.seq), kind: row.kind as RevocationKind, ref: row.ref, expiresAt: row.expiresAt };
}
