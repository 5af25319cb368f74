import type { Confidence, DetectionType, FrameworkRefs, Severity } from '../domain/detection.js';
import type { IngestedEvent } from '../ingest/ingested.js';
import type { IdentityFacts } from '../ingest/resolve.js';
import type { Baseline } from './baseline.js';

/** What a detector or rule concluded from one event; the engine stores it as a detection. */
export interface Finding {
  type: DetectionType;
  /** `builtin:<type>` or a rule's id. */
  rule: string;
  severity: Severity;
  confidence: Confidence;
  identityId: string | null;
  credentialId?: string;
  title: string;
  summary: string;
  /**
   * What makes this finding the same as an earlier one (with the rule, it is the detection's
   * dedupe key): a detector that keeps firing on one condition raises one detection.
   */
  key: string;
  frameworks: FrameworkRefs;
  attributes: Record<string, unknown>;
  eventId: string;
  occurredAt: Date;
}

/** Per-identity baselines, loaded before a batch is evaluated. */
export interface BaselineLookup {
  get(identityId: string): Baseline;
}

/** A built-in detector: reads the event, its identities and their baselines, may keep bounded state of its own. */
export interface Detector {
  type: DetectionType;
  observe(event: IngestedEvent, baselines: BaselineLookup): readonly Finding[];
}

/** What most events raise: shared, and frozen so that nobody adds to it. */
export const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

export interface DetectorOptions {
  /** Observations before a baseline is trusted to call something new (new_source, unusual_destination). */
  minObservations: number;
  /** Window in which one token seen from two sources is concurrent use. */
  concurrentWindowMs: number;
  /** Days of silence after which activity is a reactivation. */
  staleDays: number;
  /** Issuance counting bucket, and how many buckets make a baseline. */
  issuanceBucketMs: number;
  issuanceMinBuckets: number;
  /** Tokens issued in one bucket below which nothing is a spike, and the multiple of the usual rate that is. */
  issuanceMinSpike: number;
  issuanceFactor: number;
  /** Window and distinct services that make a token chain's hops lateral movement. */
  lateralWindowMs: number;
  lateralMinServices: number;
  /** Bound on tokens tracked by the windowed detectors. */
  maxTrackedTokens: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  minObservations: 20,
  concurrentWindowMs: 5 * 60_000,
  staleDays: 90,
  issuanceBucketMs: 5 * 60_000,
  issuanceMinBuckets: 6,
  issuanceMinSpike: 10,
  issuanceFactor: 5,
  lateralWindowMs: 60_000,
  lateralMinServices: 3,
  maxTrackedTokens: 100_000,
};

/** Framework references of the built-in detection types. */
export const FRAMEWORKS: Record<DetectionType, FrameworkRefs> = {
  secret_exposure: { owaspNhi: ['NHI2'], nistCsf: ['DE.CM-09', 'PR.AA-01'] },
  use_after_revocation: { owaspNhi: ['NHI1', 'NHI7'], nistCsf: ['DE.CM-03', 'PR.AA-01'] },
  concurrent_sources: { owaspNhi: ['NHI2', 'NHI9'], nistCsf: ['DE.AE-03', 'DE.CM-03'] },
  new_source: { owaspNhi: ['NHI2'], nistCsf: ['DE.CM-01', 'DE.AE-02'] },
  unusual_destination: { owaspNhi: ['NHI5'], nistCsf: ['DE.CM-03', 'DE.AE-02'] },
  off_hours_privileged: { owaspNhi: ['NHI5', 'NHI10'], nistCsf: ['DE.CM-03'] },
  issuance_spike: { owaspNhi: ['NHI4'], nistCsf: ['DE.AE-02', 'DE.CM-09'] },
  ttl_overrun: { owaspNhi: ['NHI7'], nistCsf: ['PR.AA-01', 'DE.CM-03'] },
  stale_reactivated: { owaspNhi: ['NHI1'], nistCsf: ['DE.CM-03', 'PR.AA-01'] },
  suspicious_consent: { owaspNhi: ['NHI3', 'NHI5'], nistCsf: ['PR.AA-05', 'DE.CM-06'] },
  lateral_movement: { owaspNhi: ['NHI5', 'NHI9'], nistCsf: ['DE.AE-03', 'DE.CM-03'] },
  privilege_escalation: { owaspNhi: ['NHI5'], nistCsf: ['DE.CM-03', 'PR.AA-05'] },
  defense_evasion: { owaspNhi: ['NHI5'], nistCsf: ['DE.CM-09'] },
  suspicious_activity: { owaspNhi: [], nistCsf: ['DE.AE-02'] },
};

/** Events that are an identity acting (not a report about it). */
export function isActivity(e: IngestedEvent): boolean {
  return e.event.type !== 'secret.exposed' && e.event.type !== 'finding';
}

export function hourBucket(time: Date): string {
  return time.toISOString().slice(0, 13);
}

/** Critical identities and customer-facing ones raise the severity of what happens to them. */
export function weighty(identity: IdentityFacts | undefined): boolean {
  return !!identity && (identity.criticality === 'critical' || identity.tags.includes('customer-facing'));
}

export function finding(type: DetectionType, e: IngestedEvent, fields: Omit<Finding, 'type' | 'rule' | 'frameworks' | 'eventId' | 'occurredAt' | 'attributes'> & { attributes?: Record<string, unknown> }): Finding {
  return { type, rule: `builtin:${type}`, frameworks: FRAMEWORKS[type], eventId: e.id, occurredAt: e.event.time, attributes: {}, ...fields };
}

/**
 * Whether an identity's baseline knows enough to call something new: `minObservations` events,
 * or a single one while a response watches the identity (`raise_monitoring`), when anything
 * unseen is worth a look.
 */
export function baselineEstablished(identity: IdentityFacts, observations: number, options: Pick<DetectorOptions, 'minObservations'>, at: Date): boolean {
  const watched = identity.watchedUntil !== null && identity.watchedUntil > at;
  return observations >= (watched ? 1 : options.minObservations);
}
