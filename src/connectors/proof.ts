import { randomBytes } from 'node:crypto';
import type { Verification, VerificationCheck } from './contract.js';

/** A verification holds only when there is at least one check and every check passed. */
export function verification(checks: VerificationCheck[]): Verification {
  return { verified: checks.length > 0 && checks.every((c) => c.passed), checks };
}

export function check(name: string, passed: boolean, detail: string): VerificationCheck {
  return { name, passed, detail };
}

/**
 * A secret nobody holds: a login with it must be refused, which shows the server checks this
 * account's password at all (a trust rule would accept the old secret too).
 */
export function unknownSecret(): string {
  return `cordon-probe-${randomBytes(18).toString('base64url')}`;
}

/** A login attempt's outcome, as the proofs read it. */
export type LoginOutcome =
  | { outcome: 'accepted' }
  /** The secret was wrong (or the account unknown). */
  | { outcome: 'bad_secret'; reason: string }
  /** The secret was right but the account may not log in (locked, NOLOGIN, off, limit 0). */
  | { outcome: 'account_refused'; reason: string }
  /** Refused for another reason the server gave (no access rule for this client, say). */
  | { outcome: 'refused'; reason: string };
