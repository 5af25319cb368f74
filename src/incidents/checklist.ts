/**
 * The recovery checklist of an incident, by the type of detection that opened it: what people
 * must do after containment so the identity's consumers work again and the incident can end.
 * Each item becomes a task (kind `recovery`) for the identity's owning team.
 */
export interface ChecklistItem {
  key: string;
  title: string;
  detail: string;
}

const DELIVER = { key: 'deliver-credential', title: 'Deliver the new credential', detail: 'Put the rotated value (at its delivery target) where its consumers read it: the vault path, CI secret or file it is stored in.' };
const REDEPLOY = { key: 'redeploy-consumers', title: 'Redeploy consumers', detail: 'Restart or redeploy every workload that uses the credential, so none keeps the old value; the blast radius lists them.' };
const INTEGRITY = { key: 'verify-integrity', title: 'Verify integrity', detail: 'Review what the identity did between the first sign of exposure and containment (the timeline\'s events); check the resources it can reach for changes it should not have made.' };
const REENABLE = { key: 're-enable', title: 'Re-enable the identity', detail: 'Once consumers use the new credential and integrity is verified, enable the account again (enable_identity) or offboard it.' };
const FIND_HOLDER = { key: 'find-holder', title: 'Find who holds the revoked material', detail: 'A revoked credential or token was presented again: find the source (IP, user agent, workload) and how it kept a copy.' };
const REVIEW_AGENT = { key: 'review-agent-actions', title: 'Review what the agent did', detail: 'Read the agent\'s tool calls and decisions outside its schedule; decide whether it was authorised.' };
const RELEASE_OR_DISABLE = { key: 'release-or-disable', title: 'Release the quarantine or disable the agent', detail: 'Release the quarantine (rollback) if its action was legitimate and adjust its schedule; otherwise disable it.' };
const RESTORE = { key: 'restore-access', title: 'Restore normal access', detail: 'Lift temporary measures (quarantine, disabled account, raised monitoring) once the cause is understood.' };

const BY_TYPE: Record<string, ChecklistItem[]> = {
  secret_exposure: [DELIVER, REDEPLOY, INTEGRITY, REENABLE],
  use_after_revocation: [FIND_HOLDER, INTEGRITY, DELIVER, REDEPLOY],
  off_hours_privileged: [REVIEW_AGENT, RELEASE_OR_DISABLE, INTEGRITY],
  concurrent_sources: [FIND_HOLDER, INTEGRITY, RESTORE],
  lateral_movement: [INTEGRITY, FIND_HOLDER, RESTORE],
};

export function recoveryChecklist(type: string): ChecklistItem[] {
  return BY_TYPE[type] ?? [INTEGRITY, RESTORE];
}
