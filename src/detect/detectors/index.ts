import type { Detector, DetectorOptions } from '../finding.js';
import { concurrentSourcesDetector } from './concurrent-sources.js';
import { issuanceSpikeDetector } from './issuance-spike.js';
import { lateralMovementDetector } from './lateral-movement.js';
import { newSourceDetector } from './new-source.js';
import { offHoursPrivilegedDetector } from './off-hours-privileged.js';
import { secretExposureDetector } from './secret-exposure.js';
import { staleReactivatedDetector } from './stale-reactivated.js';
import { suspiciousConsentDetector } from './suspicious-consent.js';
import { ttlOverrunDetector } from './ttl-overrun.js';
import { unusualDestinationDetector } from './unusual-destination.js';
import { useAfterRevocationDetector } from './use-after-revocation.js';

/** The built-in stateful detectors of SPEC §3.3, each with its own state. */
export function builtinDetectors(options: DetectorOptions): Detector[] {
  return [
    secretExposureDetector(), useAfterRevocationDetector(), concurrentSourcesDetector(options), newSourceDetector(options),
    unusualDestinationDetector(options), offHoursPrivilegedDetector(), issuanceSpikeDetector(options), ttlOverrunDetector(),
    staleReactivatedDetector(options), suspiciousConsentDetector(), lateralMovementDetector(options),
  ];
}
