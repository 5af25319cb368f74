import { LRUCache } from 'lru-cache';
import { finding, isActivity, type Detector, type DetectorOptions } from '../finding.js';

interface Chain {
  root: string;
  identityId: string | null;
  /** Recent hops: which token reached which service, when (bounded). */
  hops: { jti: string; target: string; at: number }[];
}

const MAX_HOPS = 32;

/**
 * A chain of derived tokens (exchange, delegation: each names its parent) whose tokens reach
 * several distinct services within a short window: an identity hopping through services faster
 * than any workload's normal call graph. Parents come from the event (`parentJti`) or from the
 * stored session's parent.
 */
export function lateralMovementDetector(options: DetectorOptions): Detector {
  const chainOf = new LRUCache<string, Chain>({ max: options.maxTrackedTokens, ttl: options.lateralWindowMs * 10 });
  return {
    type: 'lateral_movement',
    observe(e) {
      const jti = e.event.refs.jtis[0];
      if (!isActivity(e) || !jti || !e.event.target || e.event.outcome === 'failure') return [];
      const parent = e.event.signals.parentJti ?? e.resolution.sessions.find((s) => s.jti === jti)?.parentJti ?? undefined;
      let chain = chainOf.get(jti);
      if (!chain) {
        const owner = e.resolution.identities[0]?.id ?? null;
        chain = parent ? chainOf.get(parent) : undefined;
        if (!chain) {
          chain = { root: parent ?? jti, identityId: owner, hops: [] };
          if (parent) chainOf.set(parent, chain);
        }
        chainOf.set(jti, chain);
      }
      const now = e.event.time.getTime();
      chain.hops = chain.hops.filter((h) => now - h.at <= options.lateralWindowMs);
      chain.hops.push({ jti, target: e.event.target, at: now });
      if (chain.hops.length > MAX_HOPS) chain.hops.shift();
      const services = new Set(chain.hops.map((h) => h.target));
      const tokens = new Set(chain.hops.map((h) => h.jti));
      // Every hop past the threshold is a finding of the one detection (keyed by the chain's root):
      // the store keeps the first, and a batch rolled back and sent again fires it again.
      if (services.size < options.lateralMinServices || tokens.size < 2) return [];
      return [finding('lateral_movement', e, {
        severity: 'high', confidence: 'medium', identityId: chain.identityId ?? e.resolution.identities[0]?.id ?? null,
        title: 'Token chain hopping across services',
        summary: `${tokens.size} tokens derived from ${chain.root} reached ${services.size} services (${[...services].join(', ')}) within ${Math.round(options.lateralWindowMs / 1000)} s.`,
        key: `chain:${chain.root}`, attributes: { root: chain.root, tokens: [...tokens], services: [...services] },
      })];
    },
  };
}
