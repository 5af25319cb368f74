import type { JWTPayload } from 'jose';
import type { Provider } from '../../domain/identity.js';
import type { BindingRule, IssuerKind, TrustedIssuer } from './schema.js';
import { parseSpiffeId } from './spiffe.js';

/** The provider whose external refs a kind's `sub` names, when a rule does not say. */
const PROVIDER_OF_KIND: Record<IssuerKind, Provider> = {
  github_actions: 'github',
  kubernetes: 'kubernetes',
  spiffe: 'generic',
  oidc: 'generic',
};

/** A claim by name; `a/b` reads claim `a`, then its member `b` (claim names may contain dots). */
export function claimAt(claims: JWTPayload, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('/')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const escaped = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 's').test(value);
}

/** Why the rule does not match these claims, or undefined when every condition holds. */
export function ruleMismatch(rule: BindingRule, claims: JWTPayload): string | undefined {
  for (const [path, condition] of Object.entries(rule.claims ?? {})) {
    const value = claimAt(claims, path);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return `claim ${path} is missing`;
    const allowed = Array.isArray(condition) ? condition : [condition];
    if (!allowed.some((pattern) => globMatches(pattern, String(value)))) return `claim ${path} is not an allowed value`;
  }
  return undefined;
}

/** How a matching rule names the identity: by id, or by a provider's external ref. */
export type IdentityReference = { id: string } | { provider: Provider; externalRef: string };

export function identityReference(config: TrustedIssuer, rule: BindingRule, claims: JWTPayload): IdentityReference | string {
  if (rule.identity) return { id: rule.identity };
  const value = claimAt(claims, rule.identityFromClaim!);
  if (typeof value !== 'string' || value === '') return `claim ${rule.identityFromClaim} names no identity`;
  return { provider: rule.provider ?? PROVIDER_OF_KIND[config.kind], externalRef: value };
}

/**
 * What each kind of workload token must look like beyond a valid signature, issuer, audience and
 * lifetime: the claims its platform documents, consistent with each other.
 */
export function kindMismatch(config: TrustedIssuer, claims: JWTPayload): string | undefined {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') return 'has no sub claim';
  switch (config.kind) {
    case 'github_actions': {
      // GitHub Actions: sub is repo:<owner>/<repo>:<context>, and `repository` names the same repo.
      const repository = claims.repository;
      if (typeof repository !== 'string') return 'has no repository claim (not a GitHub Actions token)';
      if (!sub.startsWith(`repo:${repository}:`)) return 'has a sub that does not name its repository';
      return undefined;
    }
    case 'kubernetes': {
      // Projected service-account token: sub is system:serviceaccount:<namespace>:<name>.
      const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub);
      if (!match) return 'has a sub that is not system:serviceaccount:<namespace>:<name>';
      const k8s = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown } } | undefined;
      if (!k8s || k8s.namespace !== match[1] || k8s.serviceaccount?.name !== match[2]) {
        return 'has kubernetes.io claims that do not match its sub';
      }
      return undefined;
    }
    case 'spiffe': {
      const id = parseSpiffeId(sub);
      if (typeof id === 'string') return `has a sub that is not a SPIFFE ID: it ${id}`;
      if (id.trustDomain !== config.trustDomain) return `has a SPIFFE ID in trust domain ${id.trustDomain}, not ${config.trustDomain}`;
      return undefined;
    }
    case 'oidc':
      return undefined;
  }
}
