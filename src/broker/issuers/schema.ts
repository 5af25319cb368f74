import Type, { type Static } from 'typebox';
import { InvalidInputError, type Issue } from '../../domain/errors.js';
import { PROVIDERS } from '../../domain/identity.js';
import { validator } from '../../domain/validation.js';
import { isTrustDomain } from './spiffe.js';

/**
 * A trusted workload issuer and the rules that bind its tokens to Cordon identities, as given to
 * the API or in a YAML/JSON file. One schema validates, types and documents it.
 */
export const ISSUER_KINDS = ['github_actions', 'kubernetes', 'spiffe', 'oidc'] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

export const WORKLOAD_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** A claim's required value: one string, or any of several; `*` matches any run of characters. */
const ClaimCondition = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]);

export const BindingRule = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  claims: Type.Optional(Type.Record(Type.String({ minLength: 1 }), ClaimCondition, {
    description: 'Claims the token must carry, by name; a nested claim is named with "/" (kubernetes.io/namespace)',
  })),
  identity: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'The Cordon identity every matching token is bound to' })),
  identityFromClaim: Type.Optional(Type.String({ minLength: 1, description: 'A claim whose value is the external ref of the identity (e.g. sub)' })),
  provider: Type.Optional(Type.Enum(PROVIDERS, { description: 'Provider of the identity looked up by external ref (default from the issuer kind)' })),
  scopes: Type.Array(Type.String({ minLength: 1, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' }), { description: 'The most scope a token exchanged under this rule may carry' }),
  audiences: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Audiences (resource servers) tokens may be issued for' }),
  maxTtlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });
export type BindingRule = Static<typeof BindingRule>;

export const TrustedIssuer = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  issuer: Type.String({ minLength: 1, maxLength: 2000, description: 'The `iss` of its tokens (for SPIFFE, tokens without `iss` are matched by trust domain)' }),
  kind: Type.Enum(ISSUER_KINDS),
  jwksUri: Type.Optional(Type.String({ pattern: '^https?://', description: 'Fetched and cached; or give `jwks`' })),
  jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1 }) })),
  audiences: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Accepted `aud` values of the workload tokens' }),
  algorithms: Type.Optional(Type.Array(Type.Enum(WORKLOAD_ALGORITHMS), { minItems: 1 })),
  trustDomain: Type.Optional(Type.String({ description: 'SPIFFE trust domain bound to this issuer (required for kind spiffe)' })),
  bindings: Type.Array(BindingRule, { minItems: 1 }),
}, { additionalProperties: false });
export type TrustedIssuer = Static<typeof TrustedIssuer>;

export const DEFAULT_ALGORITHMS: TrustedIssuer['algorithms'] = ['RS256', 'ES256', 'EdDSA'];

const check = validator(TrustedIssuer);

/** Members that only private (or symmetric) JWKs have (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Validates shape and the rules a schema cannot say; `at` prefixes paths (`/issuers/2`). */
export function issuerIssues(value: unknown, at = ''): Issue[] {
  const issues = check.issues(value).map((i) => ({ ...i, path: `${at}${i.path}` }));
  if (issues.length) return issues;
  const config = value as TrustedIssuer;
  if (!!config.jwksUri === !!config.jwks) issues.push({ path: `${at}/jwksUri`, message: 'give exactly one of jwksUri and jwks' });
  config.jwks?.keys.forEach((key, i) => {
    for (const member of PRIVATE_JWK_MEMBERS) {
      if (member in key) issues.push({ path: `${at}/jwks/keys/${i}/${member}`, message: 'is private key material: give public keys only' });
    }
  });
  if (config.kind === 'spiffe') {
    if (!config.trustDomain) issues.push({ path: `${at}/trustDomain`, message: 'is required for a SPIFFE issuer' });
    else if (!isTrustDomain(config.trustDomain)) issues.push({ path: `${at}/trustDomain`, message: 'must be a SPIFFE trust domain (a-z 0-9 . - _)' });
  } else if (config.trustDomain !== undefined) {
    issues.push({ path: `${at}/trustDomain`, message: 'applies only to SPIFFE issuers' });
  }
  if (config.kind !== 'spiffe' && !/^https?:\/\//.test(config.issuer)) issues.push({ path: `${at}/issuer`, message: 'must be the issuer URL' });
  config.bindings.forEach((binding, i) => {
    if (!!binding.identity === !!binding.identityFromClaim) {
      issues.push({ path: `${at}/bindings/${i}/identity`, message: 'give exactly one of identity and identityFromClaim' });
    }
  });
  return issues;
}

export function parseIssuer(value: unknown): TrustedIssuer {
  const issues = issuerIssues(value);
  if (issues.length) throw new InvalidInputError('ERR_BROKER_ISSUER_INVALID', `trusted issuer is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  return value as TrustedIssuer;
}
