import type { IngestedEvent } from '../ingest/ingested.js';
import { countKey } from './bounded.js';

/** What is normal for one identity, learned from its events and persisted (`baselines`). */
export interface Baseline {
  observations: number;
  firstSeen: number | null;
  lastSeen: number | null;
  /** Counts of sources seen: `asn:64500`, `geo:FR`, `net:203.0.113.0/24`. */
  sources: Record<string, number>;
  /** Counts of destinations (services, resources) reached. */
  targets: Record<string, number>;
  /** OAuth scopes granted before. */
  scopes: Record<string, number>;
  /** Token issuance per bucket: an exponentially weighted mean and variance of past buckets. */
  issuance: { bucket: number; count: number; mean: number; variance: number; buckets: number; firedBucket: number };
}

export const BASELINE_LIMITS = { sources: 64, targets: 256, scopes: 128 };

export function emptyBaseline(lastSeen: number | null = null): Baseline {
  return {
    observations: 0, firstSeen: null, lastSeen, sources: {}, targets: {}, scopes: {},
    issuance: { bucket: 0, count: 0, mean: 0, variance: 0, buckets: 0, firedBucket: -1 },
  };
}

/** The source keys of an event, most telling first. */
export function sourceKeys(e: IngestedEvent): readonly string[] {
  // Detectors and learning ask for the same event's keys in turn: the last answer is kept.
  if (e === lastEvent) return lastKeys;
  const keys: string[] = [];
  if (e.event.sourceAsn !== undefined) keys.push(`asn:${e.event.sourceAsn}`);
  if (e.event.sourceGeo) keys.push(`geo:${e.event.sourceGeo.toUpperCase()}`);
  const net = network(e.event.sourceIp);
  if (net) keys.push(`net:${net}`);
  lastEvent = e;
  lastKeys = keys;
  return keys;
}

let lastEvent: IngestedEvent | undefined;
let lastKeys: readonly string[] = [];

/** An address's network (/24 for IPv4, /48 for IPv6): neighbours in one network are one source. */
export function network(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  if (ip.includes('.')) {
    // The first three dot-separated parts (all of it when there are fewer).
    let end = -1;
    for (let n = 0; n < 3; n++) {
      end = ip.indexOf('.', end + 1);
      if (end === -1) return `${ip}.0/24`;
    }
    return `${ip.slice(0, end)}.0/24`;
  }
  const groups = ip.toLowerCase().split(':');
  return groups.length >= 3 ? `${groups.slice(0, 3).join(':')}::/48` : undefined;
}

/** Learns from an event the identity's detectors have already judged. Failed attempts teach nothing. */
export function learn(baseline: Baseline, e: IngestedEvent): void {
  if (e.event.outcome === 'failure' || e.event.type === 'secret.exposed' || e.event.type === 'finding') return;
  const t = e.event.time.getTime();
  baseline.observations++;
  baseline.firstSeen = Math.min(baseline.firstSeen ?? t, t);
  baseline.lastSeen = Math.max(baseline.lastSeen ?? t, t);
  for (const key of sourceKeys(e)) countKey(baseline.sources, key, BASELINE_LIMITS.sources);
  if (e.event.target) countKey(baseline.targets, e.event.target, BASELINE_LIMITS.targets);
  for (const scope of e.event.signals.scopes ?? []) countKey(baseline.scopes, scope, BASELINE_LIMITS.scopes);
}
