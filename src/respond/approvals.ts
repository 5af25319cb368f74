import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ConflictError, ForbiddenError, InvalidInputError } from '../domain/errors.js';
import type { Actor, ApiRole } from '../domain/roles.js';
import { recordIncidentChange } from '../incidents/store.js';
import type { Db, Tx } from '../store/db.js';
import type { Job } from '../store/jobs.js';
import type { ActionApprovalRow } from '../store/schema.js';
import { settleResponse } from './effects.js';
import { APPROVAL_TIMEOUT_JOB } from './executor.js';
import { getRun, transition, type ActionRun } from './runs.js';

/** Who decides: an API token's actor with its role. */
export type Approver = Actor & { role: ApiRole };

export interface ApproveInput {
  /** The digest of the diff the approver read: it must be the run's planned diff. */
  planDigest: string;
  reason?: string;
  /** An admin approving alone, past quorum and separation of duties, with a reason. */
  breakGlass?: boolean;
}

export const MIN_BREAK_GLASS_REASON = 10;
const TIMEOUT_ACTOR: Actor = { id: 'system:approval-timeout', subject: 'system' };

export interface ApprovalOutcome {
  run: ActionRun;
  approvals: ActionApprovalRow[];
  /** True when this decision moved the run on (approved by quorum or break-glass, or denied). */
  decided: boolean;
}

/**
 * Approvals of the steps that wait for them. An approver approves exactly the diff that was
 * planned (its digest), may not approve what they asked for themselves, and a step needs its
 * quorum of distinct people. Break-glass lets an admin approve alone, with a reason, loudly
 * audited. A step not decided within its timeout gets its default.
 */
export function approvalService(deps: { db: Db; onApproved?: () => void }) {
  async function approvalsOf(tx: Tx | Db, runId: string): Promise<ActionApprovalRow[]> {
    return tx.selectFrom('actionApprovals').selectAll().where('runId', '=', runId).orderBy('at').execute();
  }

  async function awaiting(tx: Tx, runId: string): Promise<ActionRun> {
    const run = await getRun(tx, runId, { lock: true });
    if (run.state !== 'awaiting_approval') {
      throw new ConflictError('ERR_ACTION_NOT_AWAITING_APPROVAL', `action run ${runId} is ${run.state}, not awaiting approval`);
    }
    return run;
  }

  function mayDecide(run: ActionRun, approver: Approver): void {
    const roles = run.approval?.roles ?? ['approver', 'admin'];
    if (!roles.includes(approver.role as never)) {
      throw new ForbiddenError('ERR_APPROVER_ROLE', `role "${approver.role}" may not decide this step; it needs: ${roles.join(', ')}`);
    }
  }

  async function approve(runId: string, approver: Approver, input: ApproveInput): Promise<ApprovalOutcome> {
    const outcome = await deps.db.transaction().execute(async (tx) => {
      const run = await awaiting(tx, runId);
      if (input.planDigest !== run.planDigest) {
        throw new ConflictError('ERR_PLAN_CHANGED', `the diff you approve (${input.planDigest}) is not the planned diff of run ${runId} (${run.planDigest}): read it again`);
      }
      const breakGlass = input.breakGlass === true;
      if (breakGlass) {
        if (approver.role !== 'admin') throw new ForbiddenError('ERR_BREAK_GLASS_ROLE', 'only an admin may break glass');
        if ((input.reason ?? '').trim().length < MIN_BREAK_GLASS_REASON) {
          throw new InvalidInputError('ERR_BREAK_GLASS_REASON', `break-glass needs a reason of at least ${MIN_BREAK_GLASS_REASON} characters`, [{ path: '/reason', in: 'body', message: `must be at least ${MIN_BREAK_GLASS_REASON} characters for break-glass` }]);
        }
      } else {
        mayDecide(run, approver);
        if (approver.subject === run.requestedBySubject) {
          throw new ForbiddenError('ERR_SELF_APPROVAL', `${approver.subject} asked for this action and may not approve it (separation of duties)`);
        }
      }
      const given = await approvalsOf(tx, runId);
      if (given.some((a) => a.decision === 'approve' && a.subject === approver.subject && a.planDigest === run.planDigest)) {
        throw new ConflictError('ERR_ALREADY_APPROVED', `${approver.subject} already approved this diff; it needs ${run.approval?.quorum ?? 1} different approvers`);
      }
      await tx.insertInto('actionApprovals').values({
        id: randomUUID(), runId, decision: 'approve', subject: approver.subject, actor: approver.id, role: approver.role,
        planDigest: run.planDigest!, reason: input.reason ?? null, breakGlass,
      }).execute();
      const approvers = new Set([...given.filter((a) => a.decision === 'approve' && a.planDigest === run.planDigest).map((a) => a.subject), approver.subject]);
      const quorum = run.approval?.quorum ?? 1;
      if (breakGlass || approvers.size >= quorum) {
        const approved = await transition(tx, run, 'approved', { nextAttemptAt: sql`now()` as never }, approver,
          breakGlass ? `BREAK-GLASS: ${approver.subject} approved ${run.action} on ${run.targetLabel} alone: ${input.reason}`
            : `${[...approvers].join(', ')} approved ${run.action} on ${run.targetLabel} (${approvers.size} of ${quorum})`,
          breakGlass ? 'action.break_glass' : 'action.approved');
        return { run: approved, approvals: await approvalsOf(tx, runId), decided: true };
      }
      await recordIncidentChange(tx, run.incidentId, approver, {
        kind: 'action.approval_recorded', audit: 'action.approval_recorded', ref: `action:${run.id}`,
        summary: `${approver.subject} approved ${run.action} on ${run.targetLabel}: ${approvers.size} of ${quorum} approvals`,
        data: { runId: run.id, planDigest: run.planDigest, approvals: approvers.size, quorum },
      });
      return { run, approvals: await approvalsOf(tx, runId), decided: false };
    });
    if (outcome.decided) deps.onApproved?.();
    return outcome;
  }

  async function deny(runId: string, approver: Approver, reason: string): Promise<ApprovalOutcome> {
    return deps.db.transaction().execute(async (tx) => {
      const run = await awaiting(tx, runId);
      mayDecide(run, approver);
      await tx.insertInto('actionApprovals').values({
        id: randomUUID(), runId, decision: 'deny', subject: approver.subject, actor: approver.id, role: approver.role,
        planDigest: run.planDigest ?? '', reason, breakGlass: false,
      }).execute();
      const denied = await transition(tx, run, 'denied', { error: reason, errorCode: 'ERR_DENIED', finishedAt: new Date() }, approver,
        `${approver.subject} denied ${run.action} on ${run.targetLabel}: ${reason}`);
      await settleResponse(tx, denied, approver);
      return { run: denied, approvals: await approvalsOf(tx, runId), decided: true };
    });
  }

  /** The step's default decision, if it still waits on the same diff when its timeout passes. */
  async function timeout(job: Job): Promise<Record<string, unknown>> {
    const { runId, planDigest } = job.payload as { runId: string; planDigest: string };
    const result = await deps.db.transaction().execute(async (tx) => {
      const run = await getRun(tx, runId, { lock: true });
      if (run.state !== 'awaiting_approval' || run.planDigest !== planDigest) return { runId, decided: false, state: run.state };
      const waited = `no decision within ${Math.round((run.approval?.timeoutMs ?? 0) / 1000)} s`;
      if (run.approval?.default === 'approve') {
        await tx.insertInto('actionApprovals').values({
          id: randomUUID(), runId, decision: 'approve', subject: 'system', actor: TIMEOUT_ACTOR.id, role: 'admin',
          planDigest, reason: `${waited}: the step's default is to approve`, breakGlass: false,
        }).execute();
        await transition(tx, run, 'approved', { nextAttemptAt: new Date() }, TIMEOUT_ACTOR, `${run.action} on ${run.targetLabel} approved by default: ${waited}`, 'action.approved_by_timeout');
        return { runId, decided: true, state: 'approved' };
      }
      const denied = await transition(tx, run, 'denied', { error: `${waited}: denied by default`, errorCode: 'ERR_APPROVAL_TIMEOUT', finishedAt: new Date() }, TIMEOUT_ACTOR,
        `${run.action} on ${run.targetLabel} denied by default: ${waited}`, 'action.denied_by_timeout');
      await settleResponse(tx, denied, TIMEOUT_ACTOR);
      return { runId, decided: true, state: 'denied' };
    });
    if (result.state === 'approved') deps.onApproved?.();
    return result;
  }

  return { approve, deny, approvalsOf: (runId: string) => approvalsOf(deps.db, runId), jobHandlers: { [APPROVAL_TIMEOUT_JOB]: timeout } };
}

export type ApprovalService = ReturnType<typeof approvalService>;
