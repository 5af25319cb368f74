import { sql } from 'kysely';
import type { ActionPlan, Verification } from '../connectors/contract.js';
import { assertTransition, isTerminal, type ActionName, type ActionRunState } from '../domain/action-run.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { ApprovalRequirement } from '../domain/playbook.js';
import type { Actor } from '../domain/roles.js';
import { recordIncidentChange } from '../incidents/store.js';
import { afterCursor, encodeCursor } from '../store/cursor.js';
import type { Db, Executor, Tx } from '../store/db.js';
import type { ActionRunRow } from '../store/schema.js';
import type { PerformerId, RunTarget } from './actions/performer.js';

/** An approval requirement as stored on a run: with when it times out once it is waited on. */
export interface StoredApproval extends ApprovalRequirement {
  timeoutAt?: string;
}

/** An action run (SPEC §2) as the executor and the API see it. */
export interface ActionRun {
  id: string;
  responseId: string;
  incidentId: string;
  seq: number;
  tier: string;
  stepId: string;
  action: ActionName;
  performer: PerformerId;
  target: RunTarget;
  targetLabel: string;
  targetKey: string;
  params: Record<string, unknown>;
  state: ActionRunState;
  approval: StoredApproval | null;
  plan: ActionPlan | null;
  planDigest: string | null;
  idempotencyKey: string;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  continueOnError: boolean;
  nextAttemptAt: Date;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  secretSealed: string | null;
  secretFingerprint: string | null;
  output: Record<string, unknown> | null;
  verification: Verification | null;
  error: string | null;
  errorCode: string | null;
  requestedBy: string;
  requestedBySubject: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  verifiedAt: Date | null;
}

export function toRun(row: ActionRunRow): ActionRun {
  return row as unknown as ActionRun;
}

export async function getRun(db: Executor, id: string, options: { lock?: boolean } = {}): Promise<ActionRun> {
  let query = db.selectFrom('actionRuns').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new NotFoundError('ERR_ACTION_NOT_FOUND', `action run "${id}" does not exist`);
  return toRun(row);
}

export interface RunFilter {
  state?: ActionRunState;
  incident?: string;
  response?: string;
  limit: number;
  /** Keyset cursor: `<updatedAt ISO>|<id>` of the last item seen (newest first). */
  before?: string;
}

export async function listRuns(db: Executor, filter: RunFilter): Promise<{ items: ActionRun[]; nextCursor: string | null }> {
  let query = db.selectFrom('actionRuns').selectAll().orderBy('updatedAt', 'desc').orderBy('id', 'desc').limit(filter.limit + 1);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.incident) query = query.where('incidentId', '=', filter.incident);
  if (filter.response) query = query.where('responseId', '=', filter.response);
  const after = filter.before ? afterCursor('updated_at', filter.before) : undefined;
  if (after) query = query.where(after);
  const rows = (await query.execute()).map(toRun);
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last.updatedAt, last.id) : null };
}

/** Serializes claims, so the per-target check of one claim sees the runs another just claimed. */
const CLAIM_LOCK_KEY = 0x636c6d; // "clm"

/**
 * Claims runs that are ready for `worker`, for `leaseMs` (or three times the step's timeout when
 * longer, so a slow step is not taken over while it runs): a run whose turn has come (every earlier
 * run of its response is over) and that is planned or approved and due, or running under a lease
 * that ran out (its worker died: it is resumed). A run waits while another run on the same target
 * is running (the per-target lock). Row locks (`SKIP LOCKED`) keep two claimers off one run.
 */
export async function claimRuns(db: Db, worker: string, limit: number, leaseMs: number): Promise<ActionRun[]> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_KEY})`.execute(tx);
    const { rows } = await sql<{ id: string }>`
      select r.id from action_runs r
       where r.state in ('planned', 'approved', 'running')
         and r.next_attempt_at <= now()
         and (r.lease_until is null or r.lease_until < now())
         and not exists (select 1 from action_runs p where p.response_id = r.response_id and p.seq < r.seq
                           and p.state not in ('verified', 'failed', 'verification_failed', 'denied', 'cancelled'))
         and not exists (select 1 from action_runs o where o.target_key = r.target_key and o.id <> r.id
                           and o.state in ('running', 'planned', 'approved') and o.lease_until >= now())
       order by r.next_attempt_at, r.created_at, r.seq
       limit ${limit}
       for update of r skip locked`.execute(tx);
    if (rows.length === 0) return [];
    // Two runs on one target in one claim: only the first.
    const claimed = await tx.updateTable('actionRuns')
      .set({ leaseOwner: worker, leaseUntil: sql`now() + (greatest(${leaseMs}::integer, timeout_ms * 3) || ' milliseconds')::interval` as never })
      .where('id', 'in', rows.map((r) => r.id)).returningAll().execute();
    const seen = new Set<string>();
    const mine: ActionRun[] = [];
    for (const run of claimed.map(toRun).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.seq - b.seq)) {
      if (seen.has(run.targetKey)) {
        await tx.updateTable('actionRuns').set({ leaseOwner: null, leaseUntil: null }).where('id', '=', run.id).execute();
        continue;
      }
      seen.add(run.targetKey);
      mine.push(run);
    }
    return mine;
  });
}

/** Fields a transition may set besides the state. */
export type RunChanges = Partial<Pick<ActionRun,
  'plan' | 'planDigest' | 'attempts' | 'nextAttemptAt' | 'secretSealed' | 'secretFingerprint' | 'output' | 'verification' |
  'error' | 'errorCode' | 'startedAt' | 'finishedAt' | 'verifiedAt' | 'approval'>> & { releaseLease?: boolean };

function columns(changes: RunChanges): Record<string, unknown> {
  const { releaseLease, plan, output, verification, approval, ...rest } = changes;
  return {
    ...rest,
    ...(plan !== undefined ? { plan: plan === null ? null : JSON.stringify(plan) } : {}),
    ...(output !== undefined ? { output: output === null ? null : JSON.stringify(output) } : {}),
    ...(verification !== undefined ? { verification: verification === null ? null : JSON.stringify(verification) } : {}),
    ...(approval !== undefined ? { approval: approval === null ? null : JSON.stringify(approval) } : {}),
    ...(releaseLease ? { leaseOwner: null, leaseUntil: null } : {}),
  };
}

const AUDIT_ACTION: Partial<Record<ActionRunState, string>> = {
  awaiting_approval: 'action.awaiting_approval', approved: 'action.approved', running: 'action.started', succeeded: 'action.executed',
  failed: 'action.failed', verified: 'action.verified', verification_failed: 'action.verification_failed', denied: 'action.denied', cancelled: 'action.cancelled',
};

/**
 * Moves a run along its state machine in the caller's transaction, only from the state the caller
 * read (a run another worker moved meanwhile is a conflict), audited and on the incident timeline.
 */
export async function transition(tx: Tx, run: ActionRun, to: ActionRunState, changes: RunChanges, actor: Actor, summary: string, audit?: string): Promise<ActionRun> {
  assertTransition(run.id, run.state, to);
  const row = await tx.updateTable('actionRuns')
    .set({ ...columns(changes), state: to, updatedAt: sql`now()` as never } as never)
    .where('id', '=', run.id).where('state', '=', run.state)
    .returningAll().executeTakeFirst();
  if (!row) throw new ConflictError('ERR_ACTION_RUN_STATE', `action run ${run.id} is no longer ${run.state}`);
  await recordIncidentChange(tx, run.incidentId, actor, {
    kind: `action.${to}`, audit: audit ?? AUDIT_ACTION[to] ?? `action.${to}`, ref: `action:${run.id}`, summary,
    data: {
      runId: run.id, action: run.action, stepId: run.stepId, target: run.targetLabel, from: run.state, to,
      ...(changes.errorCode ? { errorCode: changes.errorCode } : {}),
      ...(changes.planDigest ? { planDigest: changes.planDigest } : {}),
    },
  });
  return toRun(row);
}

/** Updates fields of a run without changing its state (a retry's schedule, a plan read again). */
export async function updateRun(tx: Executor, run: ActionRun, changes: RunChanges): Promise<ActionRun> {
  const row = await tx.updateTable('actionRuns').set({ ...columns(changes), updatedAt: sql`now()` as never } as never)
    .where('id', '=', run.id).where('state', '=', run.state).returningAll().executeTakeFirst();
  if (!row) throw new ConflictError('ERR_ACTION_RUN_STATE', `action run ${run.id} is no longer ${run.state}`);
  return toRun(row);
}

/** The runs of a response that have not reached an end. */
export async function openRuns(tx: Executor, responseId: string): Promise<ActionRun[]> {
  return (await tx.selectFrom('actionRuns').selectAll().where('responseId', '=', responseId).orderBy('seq').execute())
    .map(toRun).filter((r) => !isTerminal(r.state));
}

/** Cancels the incident's runs that have not started, in the caller's transaction (an incident closed by force). */
export async function cancelPendingRuns(tx: Tx, incidentId: string, actor: Actor, reason: string): Promise<number> {
  const pending = await tx.selectFrom('actionRuns').selectAll().where('incidentId', '=', incidentId)
    .where('state', 'in', ['planned', 'approved', 'awaiting_approval']).orderBy('seq').forUpdate().execute();
  for (const run of pending.map(toRun)) {
    await transition(tx, run, 'cancelled', { error: reason, errorCode: 'ERR_INCIDENT_CLOSED', finishedAt: new Date(), releaseLease: true }, actor, `Cancelled ${run.action} on ${run.targetLabel}: ${reason}`);
  }
  return pending.length;
}
