import { finding, type Detector, type DetectorOptions, type Finding } from '../finding.js';

/** Weight of the newest bucket in the running mean and variance. */
const ALPHA = 0.2;
/** Empty buckets folded in at most, after a silence (they all weigh the mean down alike). */
const MAX_EMPTY_BUCKETS = 48;

/**
 * Tokens issued to one identity in one time bucket far above its usual rate: credentials minted
 * in bulk (a stolen issuing credential, a runaway agent). The usual rate is an exponentially
 * weighted mean and variance per bucket, kept in the identity's baseline.
 */
export function issuanceSpikeDetector(options: DetectorOptions): Detector {
  return {
    type: 'issuance_spike',
    observe(e, baselines) {
      if (e.event.type !== 'token.issued' || e.event.outcome === 'failure') return [];
      const bucket = Math.floor(e.event.time.getTime() / options.issuanceBucketMs);
      const out: Finding[] = [];
      for (const identity of e.resolution.identities) {
        const s = baselines.get(identity.id).issuance;
        if (bucket > s.bucket) {
          if (s.bucket > 0) {
            fold(s, s.count);
            for (let gap = Math.min(bucket - s.bucket - 1, MAX_EMPTY_BUCKETS); gap > 0; gap--) fold(s, 0);
          }
          s.bucket = bucket;
          s.count = 0;
        } else if (bucket < s.bucket) {
          continue; // late event for a closed bucket: counted nowhere rather than in the wrong one
        }
        s.count++;
        const usual = s.mean + 4 * Math.sqrt(s.variance);
        const threshold = Math.max(options.issuanceMinSpike, usual, s.mean * options.issuanceFactor);
        if (s.buckets < options.issuanceMinBuckets || s.count <= threshold || s.firedBucket === bucket) continue;
        s.firedBucket = bucket;
        out.push(finding('issuance_spike', e, {
          severity: 'high', confidence: s.count > 2 * threshold ? 'high' : 'medium', identityId: identity.id,
          title: `Token issuance spike for ${identity.name}`,
          summary: `${s.count} tokens issued to ${identity.name} within ${Math.round(options.issuanceBucketMs / 60_000)} min; usually ${s.mean.toFixed(1)} (over ${s.buckets} periods).`,
          key: `${identity.id}:${bucket}`, attributes: { count: s.count, usual: Number(s.mean.toFixed(2)), bucketMs: options.issuanceBucketMs },
        }));
      }
      return out;
    },
  };
}

function fold(s: { mean: number; variance: number; buckets: number }, count: number): void {
  if (s.buckets === 0) {
    s.mean = count;
    s.variance = 0;
  } else {
    const diff = count - s.mean;
    s.mean += ALPHA * diff;
    s.variance = (1 - ALPHA) * (s.variance + ALPHA * diff * diff);
  }
  s.buckets++;
}
