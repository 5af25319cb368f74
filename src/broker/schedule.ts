import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import { enqueueJob } from '../store/jobs.js';

/**
 * Periodic work as jobs in the shared queue: at most one queued or running job of a kind, so any
 * number of workers can schedule it on start and each run schedules the next. `except` is the
 * job now running, which is about to finish.
 */
export async function ensureScheduled(db: Db, kind: string, runAfter: Date, options: { except?: string; createdBy: string }): Promise<boolean> {
  const lock = createHash('sha256').update(`schedule:${kind}`).digest().readInt32BE(0);
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${lock})`.execute(tx);
    const pending = await tx.selectFrom('jobs').select('id').where('kind', '=', kind).where('status', 'in', ['queued', 'running'])
      .$if(options.except !== undefined, (q) => q.where('id', '<>', options.except!)).limit(1).executeTakeFirst();
    if (pending) return false;
    await enqueueJob(tx, { kind, payload: {}, createdBy: options.createdBy, runAfter, maxAttempts: 5 });
    return true;
  });
}
