import { LRUCache } from 'lru-cache';
import type { IngestedEvent } from '../../ingest/ingested.js';
import { network } from '../baseline.js';
import { finding, hourBucket, isActivity, NO_FINDINGS, type Detector, type DetectorOptions, type Finding } from '../finding.js';

const MAX_SOURCES_PER_TOKEN = 16;

/**
 * One token (a jti, or an access key id) used from two sources within a short window: copied
 * and used elsewhere. Sources are networks (ASN when known, else /24), so one workload's
 * neighbouring egress addresses are one source.
 */
export function concurrentSourcesDetector(options: DetectorOptions): Detector {
  const seen = new LRUCache<string, Map<string, number>>({ max: options.maxTrackedTokens });

  /** Records the token's use from `source`; a finding when it was used from another source within the window. */
  function observeToken(e: IngestedEvent, token: string, source: string, now: number): Finding | undefined {
    let sources = seen.get(token);
    if (!sources) seen.set(token, (sources = new Map()));
    let others: string[] | undefined;
    // forEach, not for…of: no entry array per source per event.
    sources.forEach((at, s, map) => {
      if (Math.abs(now - at) > options.concurrentWindowMs) map.delete(s);
      else if (s !== source) (others ??= []).push(s);
    });
    sources.set(source, now);
    if (sources.size > MAX_SOURCES_PER_TOKEN) sources.delete(sources.keys().next().value!);
    if (!others) return undefined;
    const owner = e.resolution.sessions[0]?.identityId ?? e.resolution.byCredentialRef[0]?.identityId ?? e.resolution.identities[0]?.id ?? null;
    return finding('concurrent_sources', e, {
      severity: 'high', confidence: others.some((o) => o.startsWith('asn:')) && source.startsWith('asn:') ? 'high' : 'medium',
      identityId: owner, title: 'One token used from several sources at once',
      summary: `${token} was used from ${source} and, within ${Math.round(options.concurrentWindowMs / 60_000)} min, from ${others.join(', ')}.`,
      key: `${token}:${hourBucket(e.event.time)}`, attributes: { token, sources: [source, ...others] },
    });
  }

  return {
    type: 'concurrent_sources',
    observe(e) {
      const { jtis, credentialRefs } = e.event.refs;
      if ((jtis.length === 0 && credentialRefs.length === 0) || !isActivity(e) || e.event.outcome === 'failure') return NO_FINDINGS;
      const source = e.event.sourceAsn !== undefined ? `asn:${e.event.sourceAsn}` : network(e.event.sourceIp);
      if (!source) return NO_FINDINGS;
      const now = e.event.time.getTime();
      let out: Finding[] | undefined;
      for (const j of jtis) {
        const found = observeToken(e, `jti:${j}`, source, now);
        if (found) (out ??= []).push(found);
      }
      for (const c of credentialRefs) {
        const found = observeToken(e, `key:${c}`, source, now);
        if (found) (out ??= []).push(found);
      }
      return out ?? NO_FINDINGS;
    },
  };
}
