import type { AuthorizationDecision, Authorizer } from '../domain/authorization.js';
import type { IdentityLoader } from './identities.js';

/**
 * The broker's built-in guard: an identity that is not `active` (quarantined, disabled,
 * offboarded) or not in the inventory gets nothing, whatever policy engine is configured. Anything
 * else is allowed here and left to the policy engine.
 */
export function identityStatusGuard(deps: { identities: Pick<IdentityLoader, 'load'> }): Authorizer {
  return {
    async authorize(request): Promise<AuthorizationDecision> {
      if (request.principal.type !== 'Identity') return { decision: 'deny', reasons: ['guard:principal-not-identity'], errors: [] };
      const identity = await deps.identities.load(request.principal.id);
      if (!identity) return { decision: 'deny', reasons: ['guard:identity-unknown'], errors: [] };
      if (identity.status !== 'active') return { decision: 'deny', reasons: [`guard:identity-${identity.status}`], errors: [] };
      return { decision: 'allow', reasons: ['guard:identity-active'], errors: [] };
    },
  };
}
