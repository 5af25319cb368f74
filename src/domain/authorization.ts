/**
 * The request-time decision interface. The policy engine (`src/policy`) implements it; the
 * broker, the API and the SDK ask it. Entities are Cedar-style `{ type, id }` references.
 */
export interface EntityRef {
  type: string;
  id: string;
}

export interface AuthorizationRequest {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  /** Facts about the request; the decision point adds time, task and the principal's risk. */
  context?: Record<string, unknown>;
}

export interface AuthorizationDecision {
  decision: 'allow' | 'deny';
  /** Ids of the policies that decided (for a deny with none: default deny). */
  reasons: string[];
  /** Policies that failed to evaluate, with why. */
  errors: string[];
}

export interface Authorizer {
  authorize(request: AuthorizationRequest): Promise<AuthorizationDecision> | AuthorizationDecision;
}
