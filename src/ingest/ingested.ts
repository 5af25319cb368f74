import type { Actor } from '../domain/roles.js';
import type { Tx } from '../store/db.js';
import type { ParsedEvent } from './event.js';
import type { Resolution } from './resolve.js';

/** An event as stored: secrets gone (fingerprints instead), resolved to identities. */
export interface IngestedEvent {
  id: string;
  dedupeKey: string;
  event: Omit<ParsedEvent, 'secrets' | 'raw'> & { fingerprints: string[] };
  /** The record with every secret replaced by its fingerprint marker. */
  raw: unknown;
  /** `raw` as JSON text, when the record arrived as text that needed no change (it is written as is). */
  rawText?: string;
  resolution: Resolution;
}

export interface DetectionResult {
  /** Detections created by this batch (an existing one seen again is not counted). */
  created: string[];
}

/**
 * Where newly stored events go for detection: called inside the batch's transaction, so
 * detections commit or roll back with their evidence. The detection engine implements it.
 */
export interface DetectionSink {
  detect(tx: Tx, events: IngestedEvent[], actor: Actor): Promise<DetectionResult>;
}
