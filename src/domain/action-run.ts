import { ConflictError } from './errors.js';

/** The action catalogue (SPEC §3.4). */
export const ACTIONS = [
  'rotate_credential', 'revoke_sessions', 'disable_identity', 'enable_identity', 'quarantine', 'remove_grant',
  'revoke_delegations', 'notify_owner', 'webhook', 'raise_monitoring', 'snapshot_evidence',
] as const;
export type ActionName = (typeof ACTIONS)[number];

/**
 * An action run's life (SPEC §2): planned → awaiting_approval → approved → running →
 * succeeded | failed → verified | verification_failed, plus denied and cancelled. A failed
 * attempt that will be retried goes from running back to approved, with its next attempt time.
 * A run that cannot even be planned (no system can act, the system stays unreachable) fails from
 * planned or approved; an approved run whose diff changed since it was approved waits for
 * approval again.
 */
export const ACTION_RUN_STATES = [
  'planned', 'awaiting_approval', 'approved', 'running', 'succeeded', 'failed', 'verified', 'verification_failed', 'denied', 'cancelled',
] as const;
export type ActionRunState = (typeof ACTION_RUN_STATES)[number];

const TRANSITIONS: Record<ActionRunState, readonly ActionRunState[]> = {
  planned: ['awaiting_approval', 'approved', 'failed', 'cancelled'],
  awaiting_approval: ['approved', 'denied', 'cancelled'],
  approved: ['running', 'awaiting_approval', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'approved'],
  succeeded: ['verified', 'verification_failed'],
  failed: [],
  verified: [],
  verification_failed: [],
  denied: [],
  cancelled: [],
};

export const TERMINAL_STATES: readonly ActionRunState[] = ['failed', 'verified', 'verification_failed', 'denied', 'cancelled'];

export function isTerminal(state: ActionRunState): boolean {
  return TERMINAL_STATES.includes(state);
}

export function canTransition(from: ActionRunState, to: ActionRunState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(runId: string, from: ActionRunState, to: ActionRunState): void {
  if (!canTransition(from, to)) {
    throw new ConflictError('ERR_ACTION_RUN_STATE', `action run ${runId} cannot go from ${from} to ${to}`);
  }
}
