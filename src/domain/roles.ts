/** API roles (SPEC §3.9). A token has one role; routes list the roles they admit. */
export const API_ROLES = ['viewer', 'responder', 'approver', 'admin', 'workload'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Humans who may read Cordon's state. Workloads may not: they only use the broker and PDP. */
export const READERS: readonly ApiRole[] = ['viewer', 'responder', 'approver', 'admin'];
export const RESPONDERS: readonly ApiRole[] = ['responder', 'admin'];
export const APPROVERS: readonly ApiRole[] = ['approver', 'admin'];
export const ADMINS: readonly ApiRole[] = ['admin'];
export const WORKLOADS: readonly ApiRole[] = ['workload', 'admin'];

/** Who did something, as recorded in the audit chain. */
export interface Actor {
  /** `token:<id>`, `cli:<user>`, `system`, `playbook:<id>` … */
  id: string;
  /** The person or service behind the token: separation of duties compares this. */
  subject: string;
  role?: ApiRole;
}

export const SYSTEM_ACTOR: Actor = { id: 'system', subject: 'system' };
