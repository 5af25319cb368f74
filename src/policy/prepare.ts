import { InvalidInputError, type Issue } from '../domain/errors.js';
import { IDENTITY_REFERENCE, type AuthorizationRequest, type EntityRef } from '../domain/authorization.js';
import type { EntityJson } from './cedar.js';
import type { EngineRequest } from './engine.js';
import { identityEntity, riskContext, timeContext, type IdentityFacts, type PrincipalRisk } from './facts.js';
import { checkCallerContext, checkScope, typedContext } from './request.js';
import type { PolicySchema } from './schema.js';
import { IDENTITY_ENTITY_TYPES, IDENTITY_TYPES } from './vocabulary.js';

/** A request as callers make it (the shared interface). */
export type PolicyRequest = AuthorizationRequest;

export interface RequestFacts {
  identities: ReadonlyMap<string, IdentityFacts>;
  risk: ReadonlyMap<string, PrincipalRisk>;
}

/** Ids of the identities a request names (principal, and resource when it is an identity). */
export function identityIds(request: PolicyRequest): string[] {
  const ids = [request.principal.id];
  if (namesIdentity(request.resource) && request.resource.id !== request.principal.id) ids.push(request.resource.id);
  return ids;
}

function namesIdentity(ref: EntityRef): boolean {
  return IDENTITY_TYPES.has(ref.type) || ref.type === IDENTITY_REFERENCE;
}

/** An `Identity` reference gets the entity type of the identity's kind; other refs stay as they are. */
function typed(ref: EntityRef, facts: RequestFacts, path: string, issues: Issue[]): EntityRef {
  if (ref.type !== IDENTITY_REFERENCE) return ref;
  const identity = facts.identities.get(ref.id);
  if (!identity) {
    issues.push({ path: `${path}/id`, message: `identity ${ref.id} is not in the inventory` });
    return ref;
  }
  return { type: IDENTITY_ENTITY_TYPES[identity.kind], id: ref.id };
}

/**
 * Checks a request against the schema and completes it for the engine: the context gets the time,
 * the task and the principal's risk; identities become entities read from the inventory. Throws
 * `InvalidInputError` naming every bad field.
 */
export function prepareRequest(schema: PolicySchema, asked: PolicyRequest, facts: RequestFacts, now: Date): EngineRequest {
  const issues: Issue[] = [];
  const request = { ...asked, principal: typed(asked.principal, facts, '/principal', issues), resource: typed(asked.resource, facts, '/resource', issues) };
  if (issues.length) throw invalid(issues);
  const action = checkScope(schema, request, issues);
  const callerContext = request.context ?? {};
  checkCallerContext(callerContext, issues);
  const entities: EntityJson[] = [];
  for (const [path, ref] of [['/principal', request.principal], ['/resource', request.resource]] as const) {
    const identity = IDENTITY_TYPES.has(ref.type) ? facts.identities.get(ref.id) : undefined;
    if (!identity) continue;
    const expected = IDENTITY_ENTITY_TYPES[identity.kind];
    if (expected !== ref.type) {
      issues.push({ path: `${path}/type`, message: `identity ${ref.id} is a ${identity.kind}: its entity type is ${expected}` });
    } else if (path === '/principal' || ref.id !== request.principal.id) {
      entities.push(identityEntity(identity));
    }
  }
  if (issues.length || !action) throw invalid(issues);
  const context = typedContext(schema, action.context, {
    ...callerContext,
    time: timeContext(now),
    risk: riskContext(facts.risk.get(request.principal.id)),
    ...(request.task ? { task: { id: request.task.id } } : {}),
  }, issues);
  if (!context) throw invalid(issues);
  return { principal: request.principal, action: request.action, resource: request.resource, context, entities };
}

function invalid(issues: Issue[]): InvalidInputError {
  return new InvalidInputError('ERR_AUTHORIZE_INVALID', `the authorization request is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
}
