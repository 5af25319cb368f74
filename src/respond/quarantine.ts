import { sql } from 'kysely';
import type { Actor } from '../domain/roles.js';
import { setIdentityStatus } from '../inventory/status.js';
import type { Db } from '../store/db.js';
import { enqueueJob, type Job } from '../store/jobs.js';

/** Job kind: a quarantine's ttl is over. */
export const QUARANTINE_RELEASE_JOB = 'respond.quarantine.release';
const EXPIRY_ACTOR: Actor = { id: 'system:quarantine-expiry', subject: 'system' };

/**
 * Quarantines expire by themselves: the broker's entry lapses at `until`, and this job makes the
 * identity active again then, unless it is no longer quarantined (released, disabled) or a later
 * quarantine still holds it.
 */
export function quarantineExpiry(deps: { db: Db; onQueued?: () => void }) {
  async function scheduleRelease(identityId: string, until: Date, runId: string): Promise<void> {
    await enqueueJob(deps.db, { kind: QUARANTINE_RELEASE_JOB, payload: { identityId, until: until.toISOString(), runId }, createdBy: EXPIRY_ACTOR.id, runAfter: until, maxAttempts: 5 });
    deps.onQueued?.();
  }

  async function release(job: Job): Promise<Record<string, unknown>> {
    const { identityId, runId } = job.payload as { identityId: string; until: string; runId: string };
    return deps.db.transaction().execute(async (tx) => {
      const identity = await tx.selectFrom('identities').select('status').where('id', '=', identityId).forUpdate().executeTakeFirst();
      if (identity?.status !== 'quarantined') return { identityId, released: false, status: identity?.status ?? 'missing' };
      const later = await tx.selectFrom('actionRuns').select('id')
        .where('action', '=', 'quarantine').where('state', '=', 'verified').where('id', '<>', runId)
        .where(sql<boolean>`target->>'identityId' = ${identityId}`)
        .where(sql<boolean>`(output->>'until')::timestamptz > now()`).executeTakeFirst();
      if (later) return { identityId, released: false, heldBy: later.id };
      await setIdentityStatus(tx, identityId, 'active', EXPIRY_ACTOR, `quarantine of run ${runId} expired`);
      return { identityId, released: true };
    });
  }

  return { scheduleRelease, jobHandlers: { [QUARANTINE_RELEASE_JOB]: release } };
}
