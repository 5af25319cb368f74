import { sourceKeys } from '../baseline.js';
import { baselineEstablished, finding, isActivity, NO_FINDINGS, type Detector, type DetectorOptions, type Finding } from '../finding.js';

/**
 * Activity from an ASN, country or (when neither is known) network the identity has never used,
 * once its baseline has seen enough to know what is usual.
 */
export function newSourceDetector(options: DetectorOptions): Detector {
  return {
    type: 'new_source',
    observe(e, baselines) {
      if (e.resolution.identities.length === 0 || !isActivity(e) || e.event.outcome === 'failure') return NO_FINDINGS;
      const keys = sourceKeys(e);
      if (keys.length === 0) return NO_FINDINGS;
      let out: Finding[] | undefined;
      for (const identity of e.resolution.identities) {
        const baseline = baselines.get(identity.id);
        if (!baselineEstablished(identity, baseline.observations, options, e.event.time)) continue;
        let unseen: string[] | undefined;
        for (const k of keys) if ((!k.startsWith('net:') || keys.length === 1) && !(k in baseline.sources)) (unseen ??= []).push(k);
        if (!unseen) continue;
        (out ??= []).push(finding('new_source', e, {
          severity: 'medium', confidence: unseen.length > 1 ? 'high' : 'medium', identityId: identity.id,
          title: `${identity.name} used from a new source`,
          summary: `${identity.name} acted from ${unseen.join(', ')}, unseen in ${baseline.observations} earlier events.`,
          key: `${identity.id}:${unseen.sort().join(',')}`, attributes: { unseen, sourceIp: e.event.sourceIp ?? null },
        }));
      }
      return out ?? NO_FINDINGS;
    },
  };
}
