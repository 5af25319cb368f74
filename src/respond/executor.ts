import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { digestPayload } from '../audit/chain.js';
import type { ActionPlan, Verification } from '../connectors/contract.js';
import { check, verification as proof } from '../connectors/proof.js';
import { CordonError, InvalidInputError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { appendEvidence } from '../incidents/evidence.js';
import { escalateIncident, recordIncidentChange } from '../incidents/store.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db, Tx } from '../store/db.js';
import { isTransientDatabaseError } from '../store/errors.js';
import { enqueueJob } from '../store/jobs.js';
import { DeliverySpec } from '../domain/delivery.js';
import type { DeliveryReceipt, SecretDelivery } from './delivery.js';
import type { PerformerRegistry } from './actions/index.js';
import type { BoundAction, StepContext } from './actions/performer.js';
import { recordEffects, settleResponse } from './effects.js';
import { claimRuns, transition, updateRun, type ActionRun } from './runs.js';
import { validator } from '../domain/validation.js';

/** Job kind: a run still awaiting approval when its timeout passes gets its default decision. */
export const APPROVAL_TIMEOUT_JOB = 'respond.approval.timeout';

export interface ExecutorSettings {
  /** A claimed run is the worker's for this long at least (3× the step's timeout if longer). */
  leaseMs: number;
  /** Backoff before retry n: base × 2^(n-1), at most `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How often to look for runs made ready by other processes. */
  pollMs: number;
  concurrency: number;
  /** Verification is read again this many times, `verifyDelayMs` apart, before it counts as failed. */
  verifyTries: number;
  verifyDelayMs: number;
}

export const DEFAULT_EXECUTOR_SETTINGS: ExecutorSettings = {
  leaseMs: 5 * 60_000, backoffBaseMs: 1000, backoffMaxMs: 60_000, pollMs: 1000, concurrency: 4, verifyTries: 3, verifyDelayMs: 250,
};

export interface ExecutorDeps {
  db: Db;
  performers: Pick<PerformerRegistry, 'bind'>;
  sealer: Sealer;
  fingerprint: Fingerprinter;
  delivery: SecretDelivery;
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  settings?: Partial<ExecutorSettings>;
  /** Told when a job is queued (approval timeouts), so the local worker need not wait for its poll. */
  onQueued?: () => void;
}

/** Who the audit chain says acted: the playbook version, on behalf of whoever sent the signal. */
function playbookActor(response: { playbookId: string; playbookVersion: number }): Actor {
  return { id: `playbook:${response.playbookId}@${response.playbookVersion}`, subject: 'playbook' };
}

/** A new secret for a rotation: 192 random bits, URL-safe text. */
function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError('ERR_ACTION_TIMEOUT', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const deliverySpec = validator(DeliverySpec);

/**
 * The durable executor: runs action runs from the database, where any process sharing the store
 * can pick them up. A run is claimed under a lease; a run found `running` with its lease over
 * belonged to a worker that died, and is resumed by first checking whether its change already
 * holds (verify before execute), so a crash between applying and recording never applies twice.
 * Unreachable systems are retried with backoff a bounded number of times; then the run fails and
 * the incident is escalated. Nothing is verified without the performer's proof.
 */
export function actionExecutor(deps: ExecutorDeps) {
  const settings = { ...DEFAULT_EXECUTOR_SETTINGS, ...deps.settings };
  const worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Emits `run` (ActionRun) after each change this executor commits. */
  const events = new EventEmitter();
  const responses = new Map<string, Actor>();

  async function actorOf(run: ActionRun): Promise<Actor> {
    let actor = responses.get(run.responseId);
    if (!actor) {
      const row = await deps.db.selectFrom('responses').select(['playbookId', 'playbookVersion']).where('id', '=', run.responseId).executeTakeFirstOrThrow();
      actor = playbookActor(row);
      if (responses.size > 10_000) responses.clear();
      responses.set(run.responseId, actor);
    }
    return actor;
  }

  async function commit(work: (tx: Tx) => Promise<ActionRun>): Promise<ActionRun> {
    const run = await deps.db.transaction().execute(work);
    events.emit('run', run);
    return run;
  }

  async function bind(run: ActionRun): Promise<BoundAction> {
    const bound = await deps.performers.bind(run.performer, run.action, run.target);
    if (!bound) throw new NotFoundError('ERR_NO_CONNECTOR', `${run.performer} cannot ${run.action} ${run.targetLabel}`);
    return bound;
  }

  /** The secret this response rotated into the identity, while the response holds it sealed. */
  async function currentSecretOf(run: ActionRun): Promise<string | undefined> {
    if (!run.target.identityId) return undefined;
    const rotated = await deps.db.selectFrom('actionRuns').select(['secretSealed', 'target'])
      .where('responseId', '=', run.responseId).where('action', '=', 'rotate_credential').where('state', '=', 'verified')
      .where('secretSealed', 'is not', null).orderBy('seq', 'desc').execute();
    const mine = rotated.find((r) => (r.target as { identityId?: string }).identityId === run.target.identityId);
    return mine?.secretSealed ? deps.sealer.open(mine.secretSealed) : undefined;
  }

  async function contextOf(run: ActionRun, actor: Actor): Promise<StepContext> {
    const response = await deps.db.selectFrom('responses').select(['detectionId']).where('id', '=', run.responseId).executeTakeFirstOrThrow();
    return {
      runId: run.id, incidentId: run.incidentId, detectionId: response.detectionId, params: run.params, actor,
      idempotencyKey: run.idempotencyKey,
      ...(run.secretSealed ? { newSecret: await deps.sealer.open(run.secretSealed) } : {}),
      ...(run.action === 'disable_identity' || run.action === 'enable_identity' ? { currentSecret: await currentSecretOf(run) } : {}),
      ...(run.output ? { executed: run.output } : {}),
    };
  }

  /** Reads the proof a few times (some systems settle a moment after the change); an error is a failed check. */
  async function verifyWithRetries(bound: BoundAction, context: StepContext): Promise<Verification> {
    let last: Verification = proof([]);
    for (let attempt = 1; attempt <= settings.verifyTries; attempt++) {
      try {
        last = await bound.verify(context);
      } catch (error) {
        last = proof([check('proof_readable', false, `the proof could not be read: ${(error as Error).message}`)]);
      }
      if (last.verified || attempt === settings.verifyTries) break;
      await new Promise((resolve) => setTimeout(resolve, settings.verifyDelayMs));
    }
    return last;
  }

  /**
   * planned: the diff is read from the system now. A step that needs approval waits for it
   * (committed here); one that does not is handed to `perform` with its plan, which records
   * `approved` and `running` in one transaction.
   */
  async function begin(run: ActionRun, actor: Actor): Promise<{ plan: ActionPlan; planDigest: string } | undefined> {
    const bound = await bind(run);
    const plan = await withTimeout(bound.plan(run.params), run.timeoutMs, `planning ${run.action} on ${run.targetLabel}`);
    const planDigest = digestPayload(plan);
    if (run.approval) {
      const timeoutAt = new Date(Date.now() + run.approval.timeoutMs);
      await commit(async (tx) => {
        const waiting = await transition(tx, run, 'awaiting_approval', { plan, planDigest, approval: { ...run.approval!, timeoutAt: timeoutAt.toISOString() }, releaseLease: true }, actor,
          `${run.action} on ${run.targetLabel} awaits approval (${run.approval!.quorum} of ${run.approval!.roles.join('/')}): ${run.approval!.reasons.join('; ')}`);
        await enqueueJob(tx, { kind: APPROVAL_TIMEOUT_JOB, payload: { runId: run.id, planDigest }, createdBy: actor.id, runAfter: timeoutAt, maxAttempts: 5 });
        return waiting;
      });
      deps.onQueued?.();
      return undefined;
    }
    return { plan, planDigest };
  }

  /** (planned →) approved | running (resumed) → succeeded → verified | verification_failed. */
  async function perform(run: ActionRun, actor: Actor, planned?: { plan: ActionPlan; planDigest: string }): Promise<void> {
    const bound = await bind(run);
    const resumed = run.state === 'running';
    if (run.state === 'planned' || run.state === 'approved') {
      if (run.approval) {
        // People approved a diff: it must still be the diff that would be applied.
        const plan = await withTimeout(bound.plan(run.params), run.timeoutMs, `planning ${run.action} on ${run.targetLabel}`);
        const planDigest = digestPayload(plan);
        if (planDigest !== run.planDigest) {
          const timeoutAt = new Date(Date.now() + run.approval.timeoutMs);
          await commit(async (tx) => {
            const waiting = await transition(tx, run, 'awaiting_approval', { plan, planDigest, approval: { ...run.approval!, timeoutAt: timeoutAt.toISOString() }, releaseLease: true }, actor,
              `The diff of ${run.action} on ${run.targetLabel} changed since it was approved: approval is needed again`, 'action.replanned');
            await enqueueJob(tx, { kind: APPROVAL_TIMEOUT_JOB, payload: { runId: run.id, planDigest }, createdBy: actor.id, runAfter: timeoutAt, maxAttempts: 5 });
            return waiting;
          });
          deps.onQueued?.();
          return;
        }
      }
      const secret = run.action === 'rotate_credential' && !run.secretSealed ? generateSecret() : undefined;
      const sealed = secret ? { secretSealed: await deps.sealer.seal(secret), secretFingerprint: deps.fingerprint(secret) } : {};
      run = await commit(async (tx) => {
        const approved = run.state === 'planned' && planned
          ? await transition(tx, run, 'approved', planned, actor, `${run.action} on ${run.targetLabel} planned: ${planned.plan.changes.length} change(s), no approval needed`)
          : run;
        return transition(tx, approved, 'running', { attempts: run.attempts + 1, ...(run.startedAt ? {} : { startedAt: new Date() }), ...sealed }, actor,
          `${run.action} on ${run.targetLabel}: attempt ${run.attempts + 1} of ${run.maxAttempts}`);
      });
    } else {
      run = await commit(async (tx) => {
        const resumedRun = await updateRun(tx, run, { attempts: run.attempts + 1 });
        await recordIncidentChange(tx, run.incidentId, actor, {
          kind: 'action.resumed', audit: 'action.resumed', ref: `action:${run.id}`, data: { runId: run.id, attempt: run.attempts + 1 },
          summary: `${run.action} on ${run.targetLabel} resumed after its worker stopped: checking whether it was applied`,
        });
        return resumedRun;
      });
    }
    const context = await contextOf(run, actor);
    if (resumed || run.attempts > 1) {
      // An earlier attempt may have applied the change before it stopped: prove it before applying again.
      const already = await bound.verify(context).catch(() => undefined);
      if (already?.verified) {
        await finish(run, actor, { alreadyApplied: true, attempt: run.attempts }, already);
        return;
      }
    }
    let receipt: DeliveryReceipt | undefined;
    if (run.action === 'rotate_credential') receipt = await deliverSecret(run, context.newSecret!);
    const result = await withTimeout(bound.execute(context), run.timeoutMs, `${run.action} on ${run.targetLabel}`);
    const output = { ...result.output, ...(receipt ? { delivery: receipt } : {}) };
    await finish(run, actor, output, await verifyWithRetries(bound, { ...context, executed: output }));
  }

  /** The new value goes to its destination before it is set: a consumer can always get it. */
  async function deliverSecret(run: ActionRun, secret: string): Promise<DeliveryReceipt> {
    const credentialId = run.target.target?.credential?.id;
    if (!credentialId) throw new InvalidInputError('ERR_ACTION_TARGET', `rotate_credential on ${run.targetLabel} names no credential`, [{ path: '/target/credential', message: 'is required' }]);
    const row = await deps.db.selectFrom('credentials').select(['delivery']).where('id', '=', credentialId).executeTakeFirst();
    const target = row?.delivery ? deliverySpec.parse(row.delivery, 'ERR_DELIVERY_TARGET', `delivery of credential ${credentialId}`) : deps.delivery.defaultTarget(credentialId);
    return deps.delivery.deliver(target, { id: run.id, credentialId, identityId: run.target.identityId!, secret });
  }

  async function finish(run: ActionRun, actor: Actor, output: Record<string, unknown>, verification: Verification): Promise<void> {
    await commit(async (tx) => {
      const done = await transition(tx, run, 'succeeded', { output }, actor, `${run.action} on ${run.targetLabel} applied`);
      const now = new Date();
      // What was planned, done and proven, kept in the incident's evidence chain.
      await appendEvidence(tx, {
        id: `action:${run.id}`, incidentId: run.incidentId, kind: 'action', ref: `action:${run.id}`,
        title: `${run.action} on ${run.targetLabel}: ${verification.verified ? 'verified' : 'not verified'}`,
        content: { runId: run.id, action: run.action, performer: run.performer, target: run.targetLabel, params: run.params, plan: run.plan, planDigest: run.planDigest, output, verification, attempts: run.attempts },
        collectedBy: actor.id,
      });
      if (verification.verified) {
        const verified = await transition(tx, done, 'verified', { verification, verifiedAt: now, finishedAt: now, releaseLease: true }, actor,
          `${run.action} on ${run.targetLabel} verified: ${verification.checks.map((c) => c.detail).join('; ')}`);
        await recordEffects(tx, verified, actor);
        await settleResponse(tx, verified, actor);
        return verified;
      }
      const failed = await transition(tx, done, 'verification_failed', { verification, finishedAt: now, releaseLease: true }, actor,
        `${run.action} on ${run.targetLabel} could not be verified: ${verification.checks.filter((c) => !c.passed).map((c) => c.detail).join('; ') || 'no proof'}`);
      await escalateIncident(tx, run.incidentId, { code: 'verification_failed', reason: `${run.action} on ${run.targetLabel} could not be verified`, runId: run.id }, actor);
      await settleResponse(tx, failed, actor);
      return failed;
    });
  }

  async function onError(run: ActionRun, actor: Actor, error: unknown): Promise<void> {
    // An unreachable system, a step over its time, or the store losing a race (a deadlock) get past with a retry.
    const transient = isTransientDatabaseError(error);
    const retryable = error instanceof UnavailableError || transient;
    const code = error instanceof CordonError ? error.code : transient ? 'ERR_STORE_TRANSIENT' : 'ERR_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    const attempts = run.state === 'running' ? run.attempts : run.attempts + 1;
    if (!(error instanceof CordonError) && !retryable) deps.logger.error({ err: error, run: run.id }, 'action run failed unexpectedly');
    if (retryable && attempts < run.maxAttempts) {
      const delay = Math.min(settings.backoffBaseMs * 2 ** (attempts - 1), settings.backoffMaxMs);
      const nextAttemptAt = new Date(Date.now() + delay);
      const changes = { attempts, nextAttemptAt, error: message, errorCode: code, releaseLease: true };
      const summary = `${run.action} on ${run.targetLabel}: attempt ${attempts} of ${run.maxAttempts} failed (${code}: ${message}); next attempt in ${delay} ms`;
      await commit(async (tx) => {
        if (run.state === 'running') return transition(tx, run, 'approved', changes, actor, summary, 'action.retry_scheduled');
        const updated = await updateRun(tx, run, changes);
        await recordIncidentChange(tx, run.incidentId, actor, { kind: 'action.retry_scheduled', audit: 'action.retry_scheduled', ref: `action:${run.id}`, summary, data: { runId: run.id, errorCode: code } });
        return updated;
      });
      return;
    }
    const escalation = code === 'ERR_NO_CONNECTOR' ? 'no_connector' as const : retryable ? 'retries_exhausted' as const : 'action_failed' as const;
    await commit(async (tx) => {
      const failed = await transition(tx, run, 'failed', { attempts, error: message, errorCode: code, finishedAt: new Date(), releaseLease: true }, actor,
        `${run.action} on ${run.targetLabel} failed after ${attempts} attempt(s): ${code}: ${message}`);
      await escalateIncident(tx, run.incidentId, { code: escalation, reason: `${run.action} on ${run.targetLabel} failed: ${message}`, runId: run.id }, actor);
      await settleResponse(tx, failed, actor);
      return failed;
    });
  }

  async function processRun(claimed: ActionRun): Promise<void> {
    const actor = await actorOf(claimed);
    let run = claimed;
    try {
      const planned = run.state === 'planned' ? await begin(run, actor) : undefined;
      if (run.state === 'planned' && !planned) return;
      await perform(run, actor, planned);
    } catch (error) {
      // The run as it is now (a transition may have committed before the error).
      const current = await deps.db.selectFrom('actionRuns').selectAll().where('id', '=', run.id).executeTakeFirst();
      if (!current || current.leaseOwner !== worker || !['planned', 'approved', 'running'].includes(current.state)) {
        deps.logger.warn({ err: error, run: run.id }, 'action run changed under the executor; leaving it');
        return;
      }
      await onError(current as unknown as ActionRun, actor, error).catch((failure) => deps.logger.error({ err: failure, run: run.id }, 'recording an action run failure failed'));
    }
  }

  const running = new Set<Promise<void>>();
  let stopped = true;
  let pending = true;
  let wakeUp: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;
  const signal = () => {
    pending = true;
    wakeUp?.();
  };

  async function loop(): Promise<void> {
    while (!stopped) {
      pending = false;
      const free = settings.concurrency - running.size;
      let claimed: ActionRun[] = [];
      if (free > 0) {
        try {
          claimed = await claimRuns(deps.db, worker, free, Math.max(settings.leaseMs, 1));
        } catch (error) {
          if (!stopped) deps.logger.error({ err: error }, 'claiming action runs failed');
        }
      }
      for (const run of claimed) {
        const task = processRun(run).finally(() => {
          running.delete(task);
          signal();
        });
        running.add(task);
      }
      if (pending || (claimed.length > 0 && claimed.length === free)) continue;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, settings.pollMs);
      });
      clearTimeout(timer);
      wakeUp = undefined;
    }
  }

  return {
    events,
    worker,
    start(): void {
      if (!stopped) return;
      stopped = false;
      loopDone = loop();
    },
    /** Look for ready runs now (after this process made some ready). */
    wake: signal,
    async stop(): Promise<void> {
      stopped = true;
      wakeUp?.();
      await loopDone;
      await Promise.allSettled(running);
    },
  };
}

export type ActionExecutor = ReturnType<typeof actionExecutor>;
