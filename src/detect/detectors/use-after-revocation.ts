import type { CredentialFacts, SessionFacts } from '../../ingest/resolve.js';
import { finding, hourBucket, isActivity, NO_FINDINGS, type Detector, type Finding } from '../finding.js';

const DEAD_CREDENTIAL = new Set(['rotated', 'revoked']);

/**
 * A rotated or revoked credential, or a revoked token (jti), presented again: replay of
 * something that should be dead. A rejected attempt still means someone holds it.
 */
export function useAfterRevocationDetector(): Detector {
  return {
    type: 'use_after_revocation',
    observe(e) {
      const { byCredentialRef, byFingerprint, sessions } = e.resolution;
      if (!isActivity(e) || !(byCredentialRef.some(isDead) || byFingerprint.some(isDead) || sessions.some(isRevoked))) return NO_FINDINGS;
      const out: Finding[] = [];
      const failed = e.event.outcome === 'failure';
      for (const c of [...byCredentialRef, ...byFingerprint]) {
        if (!isDead(c)) continue;
        out.push(finding('use_after_revocation', e, {
          severity: failed ? 'medium' : 'high', confidence: 'high', identityId: c.identityId, credentialId: c.id,
          title: `${c.status === 'rotated' ? 'Rotated' : 'Revoked'} credential used`,
          summary: `Credential ${c.id} of ${c.identityId} is ${c.status} but was presented for ${e.event.action ?? e.event.type} from ${e.event.sourceIp ?? 'an unknown source'} (${e.event.outcome}).`,
          key: `credential:${c.id}:${hourBucket(e.event.time)}`, attributes: { credentialStatus: c.status, outcome: e.event.outcome },
        }));
      }
      for (const s of sessions) {
        if (s.status !== 'revoked') continue;
        out.push(finding('use_after_revocation', e, {
          severity: failed ? 'medium' : 'high', confidence: 'high', identityId: s.identityId,
          title: 'Revoked token replayed',
          summary: `Token ${s.jti} of ${s.identityId} was revoked but was presented for ${e.event.action ?? e.event.type} from ${e.event.sourceIp ?? 'an unknown source'} (${e.event.outcome}).`,
          key: `jti:${s.jti}:${hourBucket(e.event.time)}`, attributes: { jti: s.jti, session: s.id, outcome: e.event.outcome },
        }));
      }
      return out;
    },
  };
}

function isDead(c: CredentialFacts): boolean {
  return DEAD_CREDENTIAL.has(c.status);
}

function isRevoked(s: SessionFacts): boolean {
  return s.status === 'revoked';
}
