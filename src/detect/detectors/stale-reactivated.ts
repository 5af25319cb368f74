import { finding, isActivity, type Detector, type DetectorOptions, type Finding } from '../finding.js';

const DAY_MS = 86_400_000;
const RETIRED = new Set(['offboarded', 'disabled']);

/**
 * An identity silent for a long time (its baseline's last activity, or its recorded last use)
 * that acts again, or an offboarded or disabled identity that acts at all.
 */
export function staleReactivatedDetector(options: DetectorOptions): Detector {
  return {
    type: 'stale_reactivated',
    observe(e, baselines) {
      if (!isActivity(e) || e.event.outcome === 'failure') return [];
      const at = e.event.time.getTime();
      const out: Finding[] = [];
      for (const identity of e.resolution.identities) {
        const last = baselines.get(identity.id).lastSeen ?? identity.lastUsedAt?.getTime() ?? null;
        const idleDays = last === null ? 0 : Math.floor((at - last) / DAY_MS);
        const retired = RETIRED.has(identity.status);
        if (!retired && idleDays < options.staleDays) continue;
        out.push(finding('stale_reactivated', e, {
          severity: retired ? 'high' : 'medium', confidence: 'high', identityId: identity.id,
          title: retired ? `${identity.status} identity ${identity.name} is active` : `${identity.name} active again after ${idleDays} days`,
          summary: retired
            ? `${identity.name} is ${identity.status} but performed ${e.event.action ?? e.event.type} from ${e.event.sourceIp ?? 'an unknown source'}.`
            : `${identity.name} was last active ${idleDays} days ago (threshold ${options.staleDays}) and performed ${e.event.action ?? e.event.type}.`,
          key: `${identity.id}:${retired ? identity.status : `idle:${last}`}`,
          attributes: { idleDays: last === null ? null : idleDays, status: identity.status },
        }));
      }
      return out;
    },
  };
}
