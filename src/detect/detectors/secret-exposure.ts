import type { CredentialFacts } from '../../ingest/resolve.js';
import { finding, weighty, type Detector, type Finding } from '../finding.js';

/**
 * A leaked value whose fingerprint equals a stored credential's is a confirmed exposure of that
 * credential, for every identity holding it. A leaked access key id names a credential without
 * proving the secret leaked with it: high confidence. A leaked value matching nothing is an
 * unattributed exposure. A credential already rotated or revoked exposes little.
 */
export function secretExposureDetector(): Detector {
  return {
    type: 'secret_exposure',
    observe(e) {
      if (e.event.type !== 'secret.exposed') return [];
      const { byFingerprint, byCredentialRef, identities } = e.resolution;
      const out: Finding[] = [];
      const confirmed = new Set(byFingerprint.map((c) => c.id));
      const report = (credential: CredentialFacts, how: 'fingerprint' | 'credential_ref') => {
        const identity = identities.find((i) => i.id === credential.identityId);
        const live = credential.status === 'active';
        out.push(finding('secret_exposure', e, {
          severity: !live ? 'low' : weighty(identity) ? 'critical' : 'high',
          confidence: how === 'fingerprint' ? 'confirmed' : 'high',
          identityId: credential.identityId, credentialId: credential.id,
          title: `Secret of ${identity?.name ?? credential.identityId} exposed (${e.event.format})`,
          summary: `${how === 'fingerprint' ? 'A leaked value matches the fingerprint of' : 'A leaked key id names'} credential ${credential.id} (${credential.status}) of identity ${credential.identityId}, found by ${e.event.source} in ${e.event.target ?? 'an unknown place'}.`,
          key: `${credential.id}:${how === 'fingerprint' ? (credential.fingerprint ?? '') : 'ref'}`,
          attributes: { matchedBy: how, credentialStatus: credential.status, where: e.event.target ?? null, verified: e.event.signals.verified ?? null },
        }));
      };
      for (const c of byFingerprint) report(c, 'fingerprint');
      for (const c of byCredentialRef) if (!confirmed.has(c.id)) report(c, 'credential_ref');
      if (out.length === 0) {
        // A report may carry no value at all (GitHub's webhook omits it): the exposure is real, its owner unknown.
        const verified = e.event.signals.verified === true;
        out.push(finding('secret_exposure', e, {
          severity: verified ? 'high' : 'medium', confidence: verified ? 'high' : 'medium', identityId: null,
          title: `Unattributed secret exposed (${e.event.format})`,
          summary: `A leaked ${e.event.fingerprints.length ? 'value' : 'secret (value not reported)'} found by ${e.event.source} in ${e.event.target ?? 'an unknown place'} matches no known credential${verified ? '; the scanner verified it works' : ''}.`,
          key: e.event.fingerprints.length ? `unattributed:${[...e.event.fingerprints].sort().join(',')}` : `unattributed:${e.dedupeKey}`,
          attributes: { fingerprints: e.event.fingerprints, where: e.event.target ?? null, verified: e.event.signals.verified ?? null },
        }));
      }
      return out;
    },
  };
}

