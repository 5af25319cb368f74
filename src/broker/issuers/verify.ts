import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { UnavailableError } from '../../domain/errors.js';
import type { IdentityFacts, IdentityLoader } from '../identities.js';
import { unacceptableToken } from '../oauth-error.js';
import type { BrokerSettings } from '../settings.js';
import { identityReference, kindMismatch, ruleMismatch } from './binding.js';
import type { IssuerRegistry } from './registry.js';
import type { BindingRule, TrustedIssuer } from './schema.js';
import { parseSpiffeId } from './spiffe.js';

/** A workload token that verified and matched a binding rule. */
export interface WorkloadToken {
  issuer: TrustedIssuer;
  claims: JWTPayload;
  rule: BindingRule;
  identity: IdentityFacts;
  /** Seconds since the epoch. */
  exp: number;
}

type Which = 'subject_token' | 'actor_token';

/** Verified workload tokens are kept (by their exact text) until they expire or issuers change. */
const CACHE_LIMIT = 20_000;

/**
 * Verifies a token from a trusted workload issuer (signature with the issuer's keys, issuer,
 * audience, lifetime, allowed algorithms), checks what its kind must look like, and binds it to a
 * Cordon identity with the first rule whose claim conditions hold. Every refusal says which check
 * failed; all are `invalid_request` (RFC 8693 §2.2.2).
 */
export function workloadTokenVerifier(deps: {
  issuers: Pick<IssuerRegistry, 'find' | 'version'>;
  identities: Pick<IdentityLoader, 'load' | 'byExternalRef'>;
  settings: Pick<BrokerSettings, 'clockToleranceSeconds'>;
  now: () => number;
}) {
  const cache = new Map<string, WorkloadToken>();
  let cacheVersion = -1;

  async function verify(token: string, which: Which): Promise<WorkloadToken> {
    if (cacheVersion !== deps.issuers.version()) {
      cache.clear();
      cacheVersion = deps.issuers.version();
    }
    const cached = cache.get(token);
    if (cached && cached.exp * 1000 > deps.now() - deps.settings.clockToleranceSeconds * 1000) return cached;

    let unverified: JWTPayload;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      unverified = decodeJwt(token);
      header = decodeProtectedHeader(token);
    } catch {
      throw unacceptableToken(which, 'is not a JWT');
    }
    const spiffeDomain = typeof unverified.sub === 'string' ? parseSpiffeId(unverified.sub) : undefined;
    const loaded = await deps.issuers.find(unverified.iss, typeof spiffeDomain === 'object' ? spiffeDomain.trustDomain : undefined);
    if (!loaded) throw unacceptableToken(which, `is from an untrusted issuer${unverified.iss ? ` (${unverified.iss})` : ''}`);
    const config = loaded.config;
    if (config.kind === 'spiffe' && header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') {
      throw unacceptableToken(which, 'is not a JWT-SVID (typ must be JWT or JOSE)');
    }

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, loaded.keys, {
        ...(unverified.iss !== undefined || config.kind !== 'spiffe' ? { issuer: config.issuer } : {}),
        audience: config.audiences,
        algorithms: config.algorithms,
        clockTolerance: deps.settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(deps.now()),
      }));
    } catch (error) {
      throw verificationFailure(which, error, config);
    }
    const kindProblem = kindMismatch(config, claims);
    if (kindProblem) throw unacceptableToken(which, kindProblem);

    let lastMismatch = 'no binding rule';
    for (const rule of config.bindings) {
      const mismatch = ruleMismatch(rule, claims);
      if (mismatch) {
        lastMismatch = mismatch;
        continue;
      }
      const reference = identityReference(config, rule, claims);
      if (typeof reference === 'string') throw unacceptableToken(which, `breaks the binding rules of issuer ${config.id}: ${reference}`);
      const identity = 'id' in reference
        ? await deps.identities.load(reference.id)
        : await deps.identities.byExternalRef(reference.provider, reference.externalRef);
      if (!identity) {
        const named = 'id' in reference ? `identity ${reference.id}` : `${reference.provider} external ref ${reference.externalRef}`;
        throw unacceptableToken(which, `is bound to ${named}, which is not (or not uniquely) in the inventory`);
      }
      const verified: WorkloadToken = { issuer: config, claims, rule, identity, exp: claims.exp! };
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
      cache.set(token, verified);
      return verified;
    }
    throw unacceptableToken(which, `breaks the binding rules of issuer ${config.id}: ${lastMismatch}`);
  }

  return { verify };
}

export type WorkloadTokenVerifier = ReturnType<typeof workloadTokenVerifier>;

function verificationFailure(which: Which, error: unknown, config: TrustedIssuer): Error {
  if (error instanceof errors.JWTExpired) return unacceptableToken(which, 'has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return unacceptableToken(which, `has an audience issuer ${config.id} is not accepted for`);
    if (error.claim === 'iss') return unacceptableToken(which, 'has the wrong issuer');
    if (error.claim === 'nbf') return unacceptableToken(which, 'is not valid yet');
    return unacceptableToken(which, `has an invalid ${error.claim} claim`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return unacceptableToken(which, `is signed with an algorithm issuer ${config.id} does not allow`);
  if (error instanceof errors.JWKSNoMatchingKey) return unacceptableToken(which, `is signed by a key issuer ${config.id} does not publish`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return unacceptableToken(which, 'has a signature that does not verify');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || (error instanceof Error && /fetch|ECONNREFUSED|Expected 200/i.test(error.message))) {
    return new UnavailableError('ERR_BROKER_ISSUER_UNREACHABLE', `the keys of issuer ${config.id} could not be fetched`, { cause: error });
  }
  if (error instanceof errors.JOSEError) return unacceptableToken(which, `is not acceptable (${error.code})`);
  return error as Error;
}
