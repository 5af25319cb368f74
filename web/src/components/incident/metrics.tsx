import type { IncidentMetrics } from '../../api/types';
import { formatDuration, Time } from '../time';

/** Time to detect (first sign → detection), to contain (detection → verified containment), and the exposure window. */
export function IncidentTimings({ metrics }: { metrics: IncidentMetrics }) {
  return (
    <dl className="facts">
      <dt>First sign</dt><dd><Time at={metrics.firstSeenAt} /></dd>
      <dt>Detected</dt><dd><Time at={metrics.detectedAt} />{metrics.timeToDetectMs !== null ? <> · time to detect <strong>{formatDuration(metrics.timeToDetectMs)}</strong></> : null}</dd>
      <dt>Contained</dt><dd>{metrics.containedAt ? <><Time at={metrics.containedAt} /> · time to contain <strong>{formatDuration(metrics.timeToContainMs)}</strong></> : <span className="muted">not yet: no verified containment</span>}</dd>
      <dt>Exposure ended</dt><dd>{metrics.invalidatedAt ? <><Time at={metrics.invalidatedAt} /> · exposure window <strong>{formatDuration(metrics.exposureWindowMs)}</strong></> : <span className="muted">not yet: the exposed material is not proven unusable</span>}</dd>
    </dl>
  );
}
