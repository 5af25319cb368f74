/**
 * The areas cached answers belong to: the first element of every query key (see endpoints.ts).
 * Live updates invalidate by area (see live/invalidation.ts).
 */
export type Area = 'identities' | 'detections' | 'incidents' | 'actions' | 'playbooks' | 'readiness' | 'policies' | 'audit' | 'audit-verify';
