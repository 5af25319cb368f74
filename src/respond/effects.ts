import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { recordIncidentChange, settleIncident } from '../incidents/store.js';
import { setIdentityStatus } from '../inventory/status.js';
import type { Actor } from '../domain/roles.js';
import type { Tx } from '../store/db.js';
import { transition, type ActionRun } from './runs.js';

/** The id of the credential that replaces `id` when Cordon rotates it: `x@r2`, `x@r3`, … */
export function nextCredentialId(id: string): string {
  const match = /^(.*)@r(\d+)$/.exec(id);
  return match ? `${match[1]}@r${Number(match[2]) + 1}` : `${id}@r2`;
}

/**
 * What a verified action changes in Cordon's own graph, so the graph says what the system now
 * is: a rotated credential becomes `rotated` and a new one (its fingerprint, never its value)
 * takes its place; ended sessions, disabled accounts. Performers acting on Cordon itself (broker,
 * monitoring) changed the graph as they acted.
 */
export async function recordEffects(tx: Tx, run: ActionRun, actor: Actor): Promise<void> {
  if (!run.performer.startsWith('connector:')) return;
  const identityId = run.target.identityId!;
  const connectorId = run.performer.slice('connector:'.length);
  switch (run.action) {
    case 'rotate_credential': {
      const oldId = run.target.target?.credential?.id;
      if (!oldId || !run.secretFingerprint) return;
      const old = await tx.selectFrom('credentials').selectAll().where('id', '=', oldId).forUpdate().executeTakeFirst();
      if (!old) return;
      const replacement = await tx.selectFrom('credentials').select('id').where('replaces', '=', oldId).executeTakeFirst();
      if (replacement) return;
      const newId = nextCredentialId(oldId);
      await tx.updateTable('credentials').set({ status: 'rotated', updatedAt: sql`now()` as never }).where('id', '=', oldId).execute();
      await tx.insertInto('credentials').values({
        id: newId, identityId: old.identityId, name: old.name, type: old.type, fingerprint: run.secretFingerprint,
        externalRef: old.externalRef, status: 'active', storedIn: old.storedIn ? JSON.stringify(old.storedIn) : null,
        delivery: old.delivery ? JSON.stringify(old.delivery) : null, replaces: oldId, lastRotatedAt: sql`now()` as never,
      }).execute();
      await appendAudit(tx, actor, { action: 'credential.rotated', subject: `credential:${oldId}`, payload: { identityId: old.identityId, replacedBy: newId, runId: run.id } });
      return;
    }
    case 'revoke_sessions': {
      const connector = await tx.selectFrom('connectors').select('type').where('id', '=', connectorId).executeTakeFirst();
      if (!connector) return;
      await tx.updateTable('sessions').set({ status: 'revoked', endedAt: sql`now()` as never, updatedAt: sql`now()` as never })
        .where('identityId', '=', identityId).where('source', '=', `${connector.type}:${connectorId}`).where('status', '=', 'active').execute();
      return;
    }
    case 'remove_grant': {
      const grant = run.target.target?.grant;
      if (!grant) return;
      const resourceId = (run.params.resource as string | undefined) ?? grant.resourceKey;
      const row = await tx.selectFrom('grants').select(['id', 'permissions']).where('identityId', '=', identityId).where('resourceId', '=', resourceId).forUpdate().executeTakeFirst();
      if (!row) return;
      const removed = new Set(grant.permissions.map((p) => p.toUpperCase()));
      const left = row.permissions.filter((p) => !removed.has(p.toUpperCase()));
      if (left.length) await tx.updateTable('grants').set({ permissions: left, updatedAt: sql`now()` as never }).where('id', '=', row.id).execute();
      else await tx.deleteFrom('grants').where('id', '=', row.id).execute();
      await appendAudit(tx, actor, { action: 'grant.removed', subject: `identity:${identityId}`, payload: { resourceId, removed: [...removed], left, runId: run.id } });
      return;
    }
    case 'disable_identity':
      await setIdentityStatus(tx, identityId, 'disabled', actor, `disabled on its system by run ${run.id}`);
      return;
    case 'enable_identity':
      await setIdentityStatus(tx, identityId, 'active', actor, `enabled on its system by run ${run.id}`);
      return;
    default:
  }
}

/**
 * After a run ended: a failure stops the steps after it in its tier (unless it may be ignored;
 * later tiers, such as keeping evidence and telling the owners, still run) and hands the incident
 * to people; when no run of the response is left, the response is over and the secrets
 * it sealed are wiped. Then the incident's status follows.
 */
export async function settleResponse(tx: Tx, run: ActionRun, actor: Actor): Promise<void> {
  const failed = run.state === 'failed' || run.state === 'verification_failed';
  if (failed && !run.continueOnError) {
    const following = await tx.selectFrom('actionRuns').selectAll().where('responseId', '=', run.responseId).where('tier', '=', run.tier)
      .where('seq', '>', run.seq).where('state', 'in', ['planned', 'approved', 'awaiting_approval']).orderBy('seq').forUpdate().execute();
    for (const next of following) {
      await transition(tx, next as unknown as ActionRun, 'cancelled', { error: `step ${run.stepId} before it ${run.state === 'failed' ? 'failed' : 'could not be verified'}`, errorCode: 'ERR_EARLIER_STEP_FAILED', finishedAt: new Date(), releaseLease: true }, actor,
        `Cancelled ${next.action} on ${next.targetLabel}: step ${run.stepId} before it ${run.state === 'failed' ? 'failed' : 'could not be verified'}`);
    }
  }
  const runs = await tx.selectFrom('actionRuns').select(['state']).where('responseId', '=', run.responseId).execute();
  const over = runs.every((r) => ['verified', 'failed', 'verification_failed', 'denied', 'cancelled'].includes(r.state));
  if (over) {
    const status = runs.some((r) => r.state === 'failed' || r.state === 'verification_failed') ? 'failed' : 'completed';
    const updated = await tx.updateTable('responses').set({ status, finishedAt: sql`now()` as never, updatedAt: sql`now()` as never })
      .where('id', '=', run.responseId).where('finishedAt', 'is', null).returning('id').executeTakeFirst();
    await tx.updateTable('actionRuns').set({ secretSealed: null }).where('responseId', '=', run.responseId).where('secretSealed', 'is not', null).execute();
    if (updated) {
      await recordIncidentChange(tx, run.incidentId, actor, {
        kind: 'response.finished', audit: 'response.finished', ref: `response:${run.responseId}`,
        summary: `Playbook run ${status}`, data: { responseId: run.responseId, status },
      });
    }
  }
  await settleIncident(tx, run.incidentId, actor);
}

