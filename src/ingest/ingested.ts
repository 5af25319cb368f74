import type { Actor } from '../domain/roles.js';
import type { Tx } from '../store/db.js';
import type { ParsedEvent } from './event.js';
import type { Resolution } from './resolve.js';

/**
 * An event as stored: secrets gone (fingerprints instead), resolved to identities. The record
 * itself (`events.raw`, secrets replaced by fingerprint markers) is written by the pipeline and
 * not carried here: detection reads the normalized fields.
 */
export interface IngestedEvent {
  id: string;
  dedupeKey: string;
  event: Omit<ParsedEvent, 'secrets' | 'raw'> & { fingerprints: string[] };
  resolution: Resolution;
}

export interface DetectionResult {
  /** Detections created by this batch (an existing one seen again is not counted). */
  created: string[];
  /**
   * Called once the batch's transaction has committed: what detection learned from the batch
   * (baselines) is kept. Not called when it rolls back, so nothing is learned from a lost batch.
   */
  committed?(): void;
}

/**
 * Where newly stored events go for detection: called inside the batch's transaction, so
 * detections commit or roll back with their evidence. The detection engine implements it.
 */
export interface DetectionSink {
  detect(tx: Tx, events: IngestedEvent[], actor: Actor): Promise<DetectionResult>;
}
