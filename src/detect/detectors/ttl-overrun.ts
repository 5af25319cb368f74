import type { CredentialFacts, SessionFacts } from '../../ingest/resolve.js';
import { finding, hourBucket, isActivity, NO_FINDINGS, type Detector, type Finding } from '../finding.js';

/**
 * A token or credential used after it expired: something cached it beyond its lifetime, or the
 * system that accepted it does not check expiry. Known expiry (a stored session or credential) is
 * high confidence; an expiry the event only claims is medium.
 */
export function ttlOverrunDetector(): Detector {
  return {
    type: 'ttl_overrun',
    observe(e) {
      if (!isActivity(e) || e.event.outcome === 'failure' || e.event.type === 'token.issued') return NO_FINDINGS;
      const at = e.event.time.getTime();
      const { sessions, byCredentialRef } = e.resolution;
      const claimed = e.event.signals.tokenExpiresAt ? Date.parse(e.event.signals.tokenExpiresAt) : NaN;
      if (!anyExpired(sessions, byCredentialRef, at) && !(claimed < at)) return NO_FINDINGS;
      const out: Finding[] = [];
      const report = (identityId: string | null, what: string, expiresAt: number, confidence: 'high' | 'medium', attributes: Record<string, unknown>) => {
        const minutes = Math.round((at - expiresAt) / 60_000);
        out.push(finding('ttl_overrun', e, {
          severity: 'high', confidence, identityId, title: `${what} used after expiry`,
          summary: `${what} expired at ${new Date(expiresAt).toISOString()} and was used ${minutes} min later for ${e.event.action ?? e.event.type}.`,
          key: `${what}:${hourBucket(e.event.time)}`, attributes: { expiresAt: new Date(expiresAt).toISOString(), overrunMinutes: minutes, ...attributes },
        }));
      };
      for (const s of sessions) {
        if (expiredSession(s, at)) report(s.identityId, `token ${s.jti}`, s.expiresAt!.getTime(), 'high', { jti: s.jti });
      }
      for (const c of byCredentialRef) {
        if (expiredCredential(c, at)) report(c.identityId, `credential ${c.id}`, c.expiresAt!.getTime(), 'high', { credential: c.id });
      }
      if (out.length === 0 && claimed < at) {
        report(e.resolution.identities[0]?.id ?? null, `token ${e.event.refs.jtis[0] ?? '(no jti)'}`, claimed, 'medium', { jti: e.event.refs.jtis[0] ?? null });
      }
      return out;
    },
  };
}

function anyExpired(sessions: SessionFacts[], credentials: CredentialFacts[], at: number): boolean {
  for (const s of sessions) if (expiredSession(s, at)) return true;
  for (const c of credentials) if (expiredCredential(c, at)) return true;
  return false;
}

function expiredSession(s: SessionFacts, at: number): boolean {
  return s.status !== 'revoked' && !!s.expiresAt && s.expiresAt.getTime() < at;
}

function expiredCredential(c: CredentialFacts, at: number): boolean {
  return c.status === 'active' && !!c.expiresAt && c.expiresAt.getTime() < at;
}
