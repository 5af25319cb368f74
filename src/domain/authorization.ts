import type { IdentityKind } from './identity.js';

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
  /** The task the request is made for (the broker's task id). */
  task?: { id: string };
}

/** Entity types of Cordon's Cedar schema (`policies/cordon.cedarschema`). */
export const ACTION_ENTITY_TYPE = 'Cordon::Action';
export const RESOURCE_ENTITY_TYPE = 'Cordon::Resource';
export const TEAM_ENTITY_TYPE = 'Cordon::Team';

/** One entity type per identity kind, so a policy can say `principal is Cordon::AiAgent`. */
export const IDENTITY_ENTITY_TYPES: Readonly<Record<IdentityKind, string>> = {
  service_account: 'Cordon::ServiceAccount',
  api_key: 'Cordon::ApiKey',
  oauth_app: 'Cordon::OAuthApp',
  workload: 'Cordon::Workload',
  ai_agent: 'Cordon::AiAgent',
  ci_token: 'Cordon::CiToken',
  db_role: 'Cordon::DbRole',
  certificate: 'Cordon::Certificate',
  bot: 'Cordon::Bot',
};

/**
 * A principal or resource of this type is an inventory identity named by id alone; the decision
 * point gives it its kind's entity type. Callers that know only the identity id use it.
 */
export const IDENTITY_REFERENCE = 'Identity';

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
