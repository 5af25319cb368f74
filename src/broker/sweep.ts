import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../domain/roles.js';
import type { Db } from '../store/db.js';

export interface SweepResult {
  expiredTokens: number;
  expiredTasks: number;
  /** Tokens left active by a revocation that raced with their issue (their validity was never in doubt). */
  lateRevocations: number;
  prunedRevocations: number;
}

/**
 * Brings the graph in line with time: broker tokens past expiry become `expired`, tasks past
 * expiry `expired`, and a token recorded while its parent or task was being revoked is marked
 * revoked (introspection already refused it: tokens carry their ancestry). Revocation log entries
 * an hour past their expiry are pruned.
 */
export async function sweepBroker(db: Db, actor: Actor): Promise<SweepResult> {
  return db.transaction().execute(async (tx) => {
    const expiredTokens = await tx.updateTable('sessions')
      .set({ status: 'expired', endedAt: sql`expires_at` as never, updatedAt: sql`now()` as never })
      .where('source', '=', 'broker').where('status', '=', 'active').where('expiresAt', '<=', sql<Date>`now()`).executeTakeFirst();
    const expiredTasks = await tx.updateTable('brokerTasks').set({ status: 'expired' })
      .where('status', '=', 'active').where('expiresAt', '<=', sql<Date>`now()`).executeTakeFirst();
    let lateRevocations = 0;
    for (;;) {
      const { numAffectedRows } = await sql`
        update sessions c set status = 'revoked', ended_at = now(), updated_at = now()
         where c.source = 'broker' and c.status = 'active'
           and (exists (select 1 from sessions p where p.id = c.parent_session_id and p.status = 'revoked')
             or exists (select 1 from broker_tasks t where t.id = c.attributes->>'task' and t.status = 'ended'))`.execute(tx);
      const n = Number(numAffectedRows ?? 0);
      lateRevocations += n;
      if (n === 0) break;
    }
    const pruned = await tx.deleteFrom('brokerRevocations').where('expiresAt', '<', sql<Date>`now() - interval '1 hour'`).executeTakeFirst();
    const result = {
      expiredTokens: Number(expiredTokens.numUpdatedRows), expiredTasks: Number(expiredTasks.numUpdatedRows),
      lateRevocations, prunedRevocations: Number(pruned.numDeletedRows),
    };
    if (result.expiredTokens || result.expiredTasks || result.lateRevocations) {
      await appendAudit(tx, actor, { action: 'broker.swept', subject: 'broker', payload: { ...result } });
    }
    return result;
  });
}
