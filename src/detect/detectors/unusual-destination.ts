import { baselineEstablished, finding, isActivity, type Detector, type DetectorOptions, type Finding } from '../finding.js';

/** A service or resource the identity has never reached before, once its baseline is established. */
export function unusualDestinationDetector(options: DetectorOptions): Detector {
  return {
    type: 'unusual_destination',
    observe(e, baselines) {
      const target = e.event.target;
      if (!isActivity(e) || !target || e.event.outcome === 'failure') return [];
      const out: Finding[] = [];
      for (const identity of e.resolution.identities) {
        const baseline = baselines.get(identity.id);
        if (!baselineEstablished(identity, baseline.observations, options, e.event.time) || target in baseline.targets) continue;
        out.push(finding('unusual_destination', e, {
          severity: e.event.signals.privileged ? 'high' : 'medium', confidence: 'medium', identityId: identity.id,
          title: `${identity.name} reached an unusual destination`,
          summary: `${identity.name} reached ${target}, not among the ${Object.keys(baseline.targets).length} destinations of its ${baseline.observations} earlier events.`,
          key: `${identity.id}:${target}`, attributes: { target, privileged: e.event.signals.privileged ?? false },
        }));
      }
      return out;
    },
  };
}
