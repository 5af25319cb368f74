/** The vocabulary of incidents (SPEC §2, §3.5). */

export const INCIDENT_STATUSES = ['new', 'triage', 'containing', 'contained', 'recovering', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Traffic Light Protocol 2.0 labels: who the incident's details may be shared with. */
export const TLP_LABELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLabel = (typeof TLP_LABELS)[number];

export const TASK_KINDS = ['session_review', 'notify', 'recovery', 'investigate', 'other'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_STATUSES = ['open', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export function isOpenIncident(status: string): boolean {
  return status !== 'closed';
}
