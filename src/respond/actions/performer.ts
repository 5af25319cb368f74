import type { ActionPlan, ActionResult, ActionTarget, Verification } from '../../connectors/contract.js';
import type { ActionName } from '../../domain/action-run.js';
import type { Actor } from '../../domain/roles.js';

/**
 * What carries out an action on one target: a connector (the target's own system), the broker
 * (Cordon's tokens), Cordon itself (monitoring), notifications or evidence. Every performer
 * follows the connector contract's shape: a dry-run plan, an idempotent execute, a verify that
 * reads proof back, a rollback where reversible.
 */
export type PerformerId = `connector:${string}` | 'broker' | 'broker:derived' | 'cordon' | 'notify' | 'evidence';

/** The target of one action run, as the planner resolved it from the identity graph. */
export interface RunTarget {
  /** The identity acted on (null for steps about the detection itself). */
  identityId: string | null;
  /** The identity and credential as the connector contract names them. */
  target: ActionTarget | null;
  /** What a person reads: `role cordon_demo_payments_api (svc-payments-api)`. */
  label: string;
  /** Runs with the same key never run at the same time (the per-target lock). */
  key: string;
}

/** Everything one execution of a step knows besides its target. */
export interface StepContext {
  runId: string;
  incidentId: string;
  detectionId: string | null;
  params: Record<string, unknown>;
  /** Who acts: the playbook, on behalf of whoever sent the signal. */
  actor: Actor;
  /** Stable across retries of the run. */
  idempotencyKey: string;
  /** rotate_credential: the value being set (never logged or returned). */
  newSecret?: string;
  /** A current secret of the identity Cordon holds (rotated in by this response), for login proofs. */
  currentSecret?: string;
  /** What `execute` returned (for `verify`: a receipt is part of some proofs). */
  executed?: Record<string, unknown>;
}

export interface BoundAction {
  /** Dry run: what `execute` would change, read from the system now. */
  plan(params: Record<string, unknown>): Promise<ActionPlan>;
  execute(context: StepContext): Promise<ActionResult>;
  verify(context: StepContext): Promise<Verification>;
  rollback?(context: StepContext): Promise<ActionResult>;
}

export interface Performer {
  id: PerformerId;
  /** The action bound to the target, or undefined when this performer cannot do it. */
  bind(action: ActionName, target: RunTarget): Promise<BoundAction | undefined>;
}
