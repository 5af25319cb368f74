import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { ACCESS_TOKEN_TYP, identitiesOf, SIGNING_ALG, type ActClaim, type CordonTokenClaims } from './claims.js';
import type { SigningKeys } from './keys.js';
import type { RevocationState } from './revocations.js';
import type { BrokerSettings } from './settings.js';

export type TokenCheck =
  | { active: true; claims: CordonTokenClaims }
  | { active: false; reason: string };

/**
 * Tokens verified here once, by their exact text. A token this process signed goes in as it is
 * issued; any other is verified by jose against the broker's JWKS on first sight. Bounded: the
 * oldest entries leave first and are verified again if they come back.
 */
const CACHE_LIMIT = 50_000;

/**
 * Says whether a Cordon access token is active: signed by one of the broker's keys, not expired,
 * and neither it, nor a token it was derived from, nor its task revoked, nor any identity it
 * speaks for quarantined. After the first verification this is map lookups only.
 */
export function accessTokenChecker(deps: {
  keys: Pick<SigningKeys, 'verifier' | 'refreshFor' | 'knows'>;
  revocations: Pick<RevocationState, 'tokenRevoked' | 'taskEnded' | 'quarantinedUntil'>;
  settings: Pick<BrokerSettings, 'issuer'>;
  now: () => number;
}) {
  const verified = new Map<string, CordonTokenClaims>();

  function remember(token: string, claims: CordonTokenClaims): void {
    if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
  }

  function state(claims: CordonTokenClaims): TokenCheck {
    if (claims.exp * 1000 <= deps.now()) return { active: false, reason: 'expired' };
    if (deps.revocations.tokenRevoked(claims.jti)) return { active: false, reason: 'revoked' };
    for (const ancestor of claims.derived_from) {
      if (deps.revocations.tokenRevoked(ancestor)) return { active: false, reason: 'a token it was derived from was revoked' };
    }
    if (claims.task_id !== undefined && deps.revocations.taskEnded(claims.task_id)) return { active: false, reason: 'its task ended' };
    for (const identity of identitiesOf(claims)) {
      if (deps.revocations.quarantinedUntil(identity) !== undefined) return { active: false, reason: `identity ${identity} is quarantined` };
    }
    return { active: true, claims };
  }

  async function verify(token: string): Promise<CordonTokenClaims | string> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return 'not a JWT';
    }
    if (kid && !deps.keys.knows(kid)) await deps.keys.refreshFor(kid);
    try {
      const { payload } = await jwtVerify(token, deps.keys.verifier(), {
        issuer: deps.settings.issuer, algorithms: [SIGNING_ALG], typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'aud'], currentDate: new Date(deps.now()),
      });
      const claims = payload as unknown as CordonTokenClaims;
      if (!Array.isArray(claims.aud) || typeof claims.scope !== 'string' || !Array.isArray(claims.derived_from)) return 'not a Cordon access token';
      return claims;
    } catch (error) {
      if (error instanceof errors.JWTExpired) return 'expired';
      if (error instanceof errors.JOSEError) return `does not verify (${error.code})`;
      throw error;
    }
  }

  /** The claims of a token Cordon signed (expired or revoked or not), or why it is not one. */
  async function authentic(token: string): Promise<CordonTokenClaims | string> {
    const cached = verified.get(token);
    if (cached) return cached;
    const claims = await verify(token);
    if (typeof claims !== 'string') remember(token, claims);
    return claims;
  }

  return {
    remember,
    authentic,
    async check(token: string): Promise<TokenCheck> {
      const claims = await authentic(token);
      return typeof claims === 'string' ? { active: false, reason: claims } : state(claims);
    },
  };
}

export type AccessTokenChecker = ReturnType<typeof accessTokenChecker>;

/** RFC 7662 §2.2 introspection response of an active token. */
export function introspectionOf(claims: CordonTokenClaims): Record<string, unknown> {
  return {
    active: true,
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    scope: claims.scope,
    client_id: claims.client_id,
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    nbf: claims.nbf,
    jti: claims.jti,
    ...(claims.act ? { act: claims.act as ActClaim } : {}),
    ...(claims.task_id ? { task_id: claims.task_id } : {}),
    derived_from: claims.derived_from,
  };
}
