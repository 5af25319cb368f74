import { finding, hourBucket, isActivity, type Detector, type Finding } from '../finding.js';
import { withinSchedule } from '../schedule.js';

/** A privileged action by an identity with a declared schedule, outside that schedule. */
export function offHoursPrivilegedDetector(): Detector {
  return {
    type: 'off_hours_privileged',
    observe(e) {
      if (!isActivity(e) || !e.event.signals.privileged) return [];
      const out: Finding[] = [];
      for (const identity of e.resolution.identities) {
        if (!identity.schedule || withinSchedule(identity.schedule, e.event.time)) continue;
        out.push(finding('off_hours_privileged', e, {
          severity: identity.kind === 'ai_agent' || identity.criticality === 'critical' ? 'critical' : 'high', confidence: 'high',
          identityId: identity.id, title: `${identity.name} acted with privilege outside its schedule`,
          summary: `${identity.name} performed ${e.event.action ?? 'a privileged action'} on ${e.event.target ?? 'an unknown target'} at ${e.event.time.toISOString()}, outside ${identity.schedule.days.join(',')} ${identity.schedule.hours} ${identity.schedule.timezone}.`,
          key: `${identity.id}:${hourBucket(e.event.time)}`, attributes: { schedule: identity.schedule, action: e.event.action ?? null },
        }));
      }
      return out;
    },
  };
}
