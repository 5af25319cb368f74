import { sourceKeys } from '../baseline.js';
import { finding, isActivity, type Detector, type DetectorOptions, type Finding } from '../finding.js';

/**
 * Activity from an ASN, country or (when neither is known) network the identity has never used,
 * once its baseline has seen enough to know what is usual.
 */
export function newSourceDetector(options: DetectorOptions): Detector {
  return {
    type: 'new_source',
    observe(e, baselines) {
      if (!isActivity(e) || e.event.outcome === 'failure') return [];
      const keys = sourceKeys(e);
      if (keys.length === 0) return [];
      const out: Finding[] = [];
      for (const identity of e.resolution.identities) {
        const baseline = baselines.get(identity.id);
        if (baseline.observations < options.minObservations) continue;
        const informative = keys.filter((k) => !k.startsWith('net:') || keys.length === 1);
        const unseen = informative.filter((k) => !(k in baseline.sources));
        if (unseen.length === 0) continue;
        out.push(finding('new_source', e, {
          severity: 'medium', confidence: unseen.length > 1 ? 'high' : 'medium', identityId: identity.id,
          title: `${identity.name} used from a new source`,
          summary: `${identity.name} acted from ${unseen.join(', ')}, unseen in ${baseline.observations} earlier events.`,
          key: `${identity.id}:${unseen.sort().join(',')}`, attributes: { unseen, sourceIp: e.event.sourceIp ?? null },
        }));
      }
      return out;
    },
  };
}
