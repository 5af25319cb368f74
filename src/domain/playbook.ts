import type { ActionName } from './action-run.js';

/**
 * The vocabulary of playbooks (SPEC §2, §3.4): what a step acts on, what trips a guard, what an
 * approval asks for. Pure values and types; the schema and the planner live in `respond/`.
 */

/**
 * What a step acts on, resolved from the identity graph when the plan is made:
 *   identity            the detection's identity
 *   credential          the detection's credential, or the active one that replaced it
 *   credentials         every active credential of the identity
 *   sessions            the identity's live sessions, on its system and in the broker
 *   derived_sessions    broker tokens derived from the identity's (delegations, exchanges)
 *   delegations         the identities it delegates to
 *   sharing_identities  identities holding a credential with the same fingerprint
 *   none                nothing on a system: notifications, evidence about the detection itself
 */
export const TARGET_SELECTORS = [
  'identity', 'credential', 'credentials', 'sessions', 'derived_sessions', 'delegations', 'sharing_identities', 'none',
] as const;
export type TargetSelector = (typeof TARGET_SELECTORS)[number];

/**
 * Conditions a guard checks against the identity and its blast radius:
 *   customer_facing      the identity is tagged customer-facing
 *   shared               it is tagged shared, or shares a credential with another identity
 *   critical             its criticality is critical
 *   production           its environment is production
 *   unsafe_to_revoke     revoking it breaks a high/critical or customer-facing consumer
 *   blast_radius_above   more than `above` identities are in its blast radius
 */
export const GUARD_CONDITIONS = ['customer_facing', 'shared', 'critical', 'production', 'unsafe_to_revoke', 'blast_radius_above'] as const;
export type GuardCondition = (typeof GUARD_CONDITIONS)[number];

/** What a tripped guard does to its step. */
export const GUARD_EFFECTS = ['require_approval', 'escalate', 'skip'] as const;
export type GuardEffect = (typeof GUARD_EFFECTS)[number];

/** Roles that may approve a step (a subset of the API roles). */
export const APPROVER_ROLES = ['approver', 'admin', 'responder'] as const;
export type ApproverRole = (typeof APPROVER_ROLES)[number];

/** What happens to a step still awaiting approval when its timeout passes. */
export const APPROVAL_DEFAULTS = ['deny', 'approve'] as const;
export type ApprovalDefault = (typeof APPROVAL_DEFAULTS)[number];

/** The approval a planned step needs, resolved from the step and its guards. */
export interface ApprovalRequirement {
  roles: ApproverRole[];
  quorum: number;
  timeoutMs: number;
  default: ApprovalDefault;
  /** Why approval is needed: the step says so, or which guard tripped. */
  reasons: string[];
}

/** Actions that change nothing on the target system's access (they may run without a system). */
export const NON_DISRUPTIVE_ACTIONS: readonly ActionName[] = ['notify_owner', 'webhook', 'raise_monitoring', 'snapshot_evidence'];

/** Why an incident was escalated to dedicated (human-led) response. */
export const ESCALATION_CODES = [
  'guard', 'verification_failed', 'no_connector', 'retries_exhausted', 'action_failed', 'playbook', 'no_playbook', 'response_failed',
] as const;
export type EscalationCode = (typeof ESCALATION_CODES)[number];

/** `30s`, `5m`, `1h`, `2d` → milliseconds; undefined when not a duration. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
