import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Executor } from './db.js';
import type { JobRow } from './schema.js';

/**
 * A job queue in the database, shared by every process on the same store. A worker claims
 * ready jobs with `FOR UPDATE SKIP LOCKED` and holds a lease; a job whose lease ran out (its
 * worker died) is claimed again. Failed attempts are retried with exponential backoff.
 */
export interface Job {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  attempts: number;
  maxAttempts: number;
  result: Record<string, unknown> | null;
  error: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export async function enqueueJob(
  db: Executor,
  job: { kind: string; payload: Record<string, unknown>; createdBy: string; maxAttempts?: number; runAfter?: Date },
): Promise<Job> {
  const row = await db.insertInto('jobs').values({
    id: randomUUID(), kind: job.kind, payload: JSON.stringify(job.payload), status: 'queued',
    maxAttempts: job.maxAttempts ?? 3, createdBy: job.createdBy, runAfter: job.runAfter,
  }).returningAll().executeTakeFirstOrThrow();
  return toJob(row);
}

export async function getJob(db: Executor, id: string): Promise<Job | undefined> {
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toJob(row);
}

/** Claims up to `limit` ready jobs of the given kinds for `worker`, for `leaseMs`. */
export async function claimJobs(db: Db, worker: string, kinds: string[], limit: number, leaseMs: number): Promise<Job[]> {
  if (kinds.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    const ready = await tx.selectFrom('jobs').select('id')
      .where('kind', 'in', kinds)
      .where((eb) => eb.or([
        eb.and([eb('status', '=', 'queued'), eb('runAfter', '<=', sql<Date>`now()`)]),
        eb.and([eb('status', '=', 'running'), eb('lockedUntil', '<', sql<Date>`now()`)]),
      ]))
      .orderBy('runAfter').limit(limit)
      .forUpdate().skipLocked()
      .execute();
    if (ready.length === 0) return [];
    const rows = await tx.updateTable('jobs')
      .set({
        status: 'running', lockedBy: worker, attempts: sql`attempts + 1` as never,
        lockedUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval` as never, updatedAt: sql`now()` as never,
      })
      .where('id', 'in', ready.map((r) => r.id))
      .returningAll().execute();
    return rows.map(toJob);
  });
}

export async function completeJob(db: Executor, id: string, worker: string, result: Record<string, unknown>): Promise<void> {
  await db.updateTable('jobs')
    .set({ status: 'succeeded', result: JSON.stringify(result), error: null, lockedBy: null, lockedUntil: null, updatedAt: sql`now()` as never })
    .where('id', '=', id).where('lockedBy', '=', worker).execute();
}

/** Records a failed attempt: retried after a backoff, or failed for good once attempts run out. */
export async function failJob(db: Executor, id: string, worker: string, error: string, retryable: boolean): Promise<Job | undefined> {
  const row = await db.updateTable('jobs')
    .set({
      status: sql`case when ${retryable} and attempts < max_attempts then 'queued' else 'failed' end` as never,
      runAfter: sql`now() + (least(power(2, attempts), 300) || ' seconds')::interval` as never,
      error, lockedBy: null, lockedUntil: null, updatedAt: sql`now()` as never,
    })
    .where('id', '=', id).where('lockedBy', '=', worker)
    .returningAll().executeTakeFirst();
  return row && toJob(row);
}

function toJob(row: JobRow): Job {
  return {
    id: row.id, kind: row.kind, payload: row.payload, status: row.status as Job['status'], attempts: row.attempts,
    maxAttempts: row.maxAttempts, result: row.result, error: row.error, createdBy: row.createdBy,
    createdAt: row.createdAt, updatedAt: row.updatedAt,
  };
}
