import { sql } from 'kysely';
import type { Logger } from '../runtime/logger.js';
import type { Db, Executor } from '../store/db.js';
import type { PolicyDecisionRow } from '../store/schema.js';

/**
 * The decision log: who asked for what, the answer, and the policies that gave it. Decisions are
 * buffered and written in batches, off the request path. Every deny (and every decision with
 * policy errors) is kept; allows are kept at the configured sample rate (1 = all). Context values
 * are not kept, only the names of the facts the caller gave: tool inputs may be sensitive.
 */

export interface DecisionEntry {
  id: string;
  at: Date;
  policyVersion: number;
  principal: { type: string; id: string };
  action: string;
  resource: { type: string; id: string };
  decision: 'allow' | 'deny';
  reasons: string[];
  errors: string[];
  taskId?: string;
  caller: string;
  contextKeys: string[];
  durationUs: number;
}

export interface DecisionFilter {
  principal?: string;
  decision?: 'allow' | 'deny';
  action?: string;
  /** Entries older than this sequence number (keyset pagination, newest first). */
  before?: number;
  limit: number;
}

export interface DecisionLog {
  record(entry: DecisionEntry): void;
  /** Writes everything buffered so far. */
  flush(): Promise<void>;
  list(filter: DecisionFilter): Promise<(DecisionEntry & { seq: number })[]>;
  close(): Promise<void>;
}

/** More than this waiting (the store is down) and the oldest are dropped, with a warning. */
const MAX_BUFFERED = 50_000;

export function decisionLog(deps: {
  db: Db;
  logger: Pick<Logger, 'warn'>;
  sampleRate: number;
  random?: () => number;
  batchSize?: number;
  flushMs?: number;
}): DecisionLog {
  const random = deps.random ?? Math.random;
  const batchSize = deps.batchSize ?? 500;
  const flushMs = deps.flushMs ?? 200;
  let buffer: DecisionEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let dropped = 0;

  function schedule(): void {
    if (buffer.length >= batchSize) {
      void flush();
      return;
    }
    timer ??= setTimeout(() => void flush(), flushMs).unref();
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing.then(async () => {
      while (buffer.length) {
        const batch = buffer.slice(0, batchSize);
        buffer = buffer.slice(batch.length);
        try {
          await insert(deps.db, batch);
        } catch (error) {
          buffer = [...batch, ...buffer];
          if (buffer.length > MAX_BUFFERED) {
            dropped += buffer.length - MAX_BUFFERED;
            buffer = buffer.slice(buffer.length - MAX_BUFFERED);
          }
          deps.logger.warn({ err: error, waiting: buffer.length, dropped }, 'the decision log cannot be written; decisions are kept in memory');
          timer ??= setTimeout(() => void flush(), flushMs * 10).unref();
          return;
        }
      }
    });
    return writing;
  }

  return {
    record(entry) {
      if (entry.decision === 'allow' && entry.errors.length === 0 && random() >= deps.sampleRate) return;
      buffer.push(entry);
      schedule();
    },
    flush,
    async list(filter) {
      await flush();
      let query = deps.db.selectFrom('policyDecisions').selectAll().orderBy('seq', 'desc').limit(filter.limit);
      if (filter.principal) query = query.where('principalId', '=', filter.principal);
      if (filter.decision) query = query.where('decision', '=', filter.decision);
      if (filter.action) query = query.where('action', '=', filter.action);
      if (filter.before !== undefined) query = query.where(sql<boolean>`seq < ${filter.before}`);
      return (await query.execute()).map(toEntry);
    },
    async close() {
      await flush();
    },
  };
}

async function insert(db: Executor, entries: DecisionEntry[]): Promise<void> {
  await db.insertInto('policyDecisions').values(entries.map((e) => ({
    id: e.id,
    at: e.at,
    policyVersion: e.policyVersion,
    principalType: e.principal.type,
    principalId: e.principal.id,
    action: e.action,
    resourceType: e.resource.type,
    resourceId: e.resource.id,
    decision: e.decision,
    reasons: JSON.stringify(e.reasons),
    errors: JSON.stringify(e.errors),
    taskId: e.taskId ?? null,
    caller: e.caller,
    contextKeys: JSON.stringify(e.contextKeys),
    durationUs: e.durationUs,
  }))).execute();
}

function toEntry(row: PolicyDecisionRow): DecisionEntry & { seq: number } {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    policyVersion: row.policyVersion,
    principal: { type: row.principalType, id: row.principalId },
    action: row.action,
    resource: { type: row.resourceType, id: row.resourceId },
    decision: row.decision as 'allow' | 'deny',
    reasons: row.reasons,
    errors: row.errors,
    taskId: row.taskId ?? undefined,
    caller: row.caller,
    contextKeys: row.contextKeys,
    durationUs: row.durationUs,
  };
}
