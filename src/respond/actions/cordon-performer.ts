import { sql } from 'kysely';
import { appendAudit } from '../../audit/service.js';
import { check, verification } from '../../connectors/proof.js';
import type { ActionName } from '../../domain/action-run.js';
import { durationMs } from '../../domain/playbook.js';
import type { Db } from '../../store/db.js';
import type { Performer, RunTarget } from './performer.js';

/**
 * Cordon acting on itself: `raise_monitoring` puts a watch on the identity for a while, which
 * detection reads (a watched identity's new sources and destinations are reported without
 * waiting for a baseline to settle).
 */
export function cordonPerformer(deps: { db: Db }): Performer {
  return {
    id: 'cordon',
    async bind(action: ActionName, run: RunTarget) {
      const identityId = run.identityId;
      if (action !== 'raise_monitoring' || !identityId) return undefined;
      const level = (params: Record<string, unknown>) => String(params.level ?? 'raised');
      return {
        async plan(params) {
          return { changes: [{ op: 'raise_monitoring', object: `identity ${identityId}`, detail: `watch level ${level(params)} for ${String(params.duration)}` }], reversible: true };
        },
        async execute(context) {
          const until = new Date(Date.now() + durationMs(String(context.params.duration))!);
          await deps.db.transaction().execute(async (tx) => {
            const created = await tx.insertInto('monitoringWatches').values({
              id: context.runId, identityId, level: level(context.params), reason: `incident ${context.incidentId}`, runId: context.runId,
              createdBy: context.actor.id, until,
            }).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
            if (created) {
              await appendAudit(tx, context.actor, { action: 'identity.monitoring_raised', subject: `identity:${identityId}`, payload: { level: level(context.params), until: until.toISOString(), runId: context.runId } });
            }
          });
          return { output: { until: until.toISOString() } };
        },
        async verify(context) {
          const watch = await deps.db.selectFrom('monitoringWatches').select(['until']).where('id', '=', context.runId)
            .where('until', '>', sql<Date>`now()`).executeTakeFirst();
          return verification([check('watch_active', !!watch, watch ? `identity ${identityId} is watched until ${new Date(watch.until).toISOString()}` : 'no active watch')]);
        },
        async rollback(context) {
          await deps.db.transaction().execute(async (tx) => {
            await tx.updateTable('monitoringWatches').set({ until: sql`now()` as never }).where('id', '=', context.runId).execute();
            await appendAudit(tx, context.actor, { action: 'identity.monitoring_lowered', subject: `identity:${identityId}`, payload: { runId: context.runId } });
          });
          return { output: { lowered: true } };
        },
      };
    },
  };
}
