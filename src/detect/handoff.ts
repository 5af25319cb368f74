/**
 * The one interface between detection and response: when a detection is stored, a job of this
 * kind with payload `{ detectionId, requestedBy }` is queued in the same transaction, and the local worker is
 * signalled. The response engine registers the handler. See docs/detection.md.
 */
export const DETECTION_RESPOND_JOB = 'detection.respond';

export interface DetectionRespondPayload {
  detectionId: string;
  /** Who sent the signal that raised it: approvals keep them from approving their own request. */
  requestedBy: { id: string; subject: string };
}
