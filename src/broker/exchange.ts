import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import {
  ACTION_ENTITY_TYPE, IDENTITY_REFERENCE, RESOURCE_ENTITY_TYPE, type AuthorizationDecision, type AuthorizationRequest, type Authorizer,
} from '../domain/authorization.js';
import { CordonError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { AccessTokenChecker } from './access-tokens.js';
import {
  ACCESS_TOKEN_TYP, actorsOf, formatScope, GRANT_TOKEN_EXCHANGE, holderOf, ISSUED_TOKEN_TYPES, notWithin, parseScope,
  SUBJECT_TOKEN_TYPES, TOKEN_TYPE_ACCESS, type ActClaim, type CordonTokenClaims,
} from './claims.js';
import type { WorkloadTokenVerifier } from './issuers/verify.js';
import type { SigningKeys } from './keys.js';
import { OAuthError, unacceptableToken } from './oauth-error.js';
import type { RevocationState } from './revocations.js';
import type { SessionRecorder } from './session-recorder.js';
import type { BrokerSettings } from './settings.js';
import type { TaskStore } from './tasks.js';

/** RFC 8693 §2.1 request parameters, as the token endpoint received them. */
export interface ExchangeRequest {
  grantType: string;
  subjectToken: string;
  subjectTokenType: string;
  actorToken?: string;
  actorTokenType?: string;
  requestedTokenType?: string;
  audience: string[];
  resource: string[];
  scope?: string;
  /** Cordon's extension: bind the token to this task (a derived token keeps its parent's). */
  task?: string;
}

/** RFC 8693 §2.2.1 response. */
export interface ExchangeResponse {
  access_token: string;
  issued_token_type: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** The API client asking (an API token with the workload or admin role). */
export interface ExchangeClient {
  id: string;
  actor: Actor;
}

/** A presented token, verified, with what it allows the token exchanged from it to carry at most. */
interface Presented {
  /** The identity presenting it: a Cordon token's holder, a workload token's bound identity. */
  identityId: string;
  /** For `may_act`: the `sub` and `iss` the token names its holder by. */
  sub: string;
  iss: string;
  exp: number;
  cordon?: CordonTokenClaims;
  scopes: string[];
  audiences: string[];
  maxTtlSeconds?: number;
  mayAct?: { sub?: unknown; iss?: unknown };
}

const EXCHANGE_ACTION = { type: 'Action', id: 'token.exchange' } as const;

/** A policy that cannot decide (an unknown identity, a request its schema refuses) denies: fail closed. */
async function askPolicy(policy: Authorizer, request: AuthorizationRequest): Promise<AuthorizationDecision> {
  try {
    return await policy.authorize(request);
  } catch (error) {
    if (!(error instanceof CordonError)) throw error;
    return { decision: 'deny', reasons: [`policy could not decide: ${error.message}`], errors: [] };
  }
}

/**
 * RFC 8693 token exchange. A workload token from a trusted issuer, or a Cordon token, becomes a
 * short-lived Cordon access token bound to audience, scopes and (optionally) a task. With an actor
 * token it is delegation: the new token keeps the subject, nests the actor in `act`, and may only
 * narrow scope, audience and lifetime; chains are bounded and `may_act` is honoured. Every
 * identity in the chain passes the built-in guard, the subject passes the configured policy for
 * each audience, and the token is recorded as a session before it is returned.
 */
export function tokenExchanger(deps: {
  settings: Pick<BrokerSettings, 'issuer' | 'tokenTtlSeconds' | 'maxTokenTtlSeconds' | 'maxChainDepth'>;
  keys: Pick<SigningKeys, 'sign'>;
  accessTokens: Pick<AccessTokenChecker, 'check' | 'remember'>;
  workloadTokens: Pick<WorkloadTokenVerifier, 'verify'>;
  tasks: Pick<TaskStore, 'lookup'>;
  revocations: Pick<RevocationState, 'taskEnded' | 'quarantinedUntil'>;
  recorder: Pick<SessionRecorder, 'record'>;
  guard: Authorizer;
  policy?: Authorizer;
  now: () => number;
}) {
  async function present(token: string, type: string, which: 'subject_token' | 'actor_token'): Promise<Presented> {
    if (!(SUBJECT_TOKEN_TYPES as readonly string[]).includes(type)) {
      throw new OAuthError('invalid_request', `${which}_type ${type} is not supported (use ${SUBJECT_TOKEN_TYPES.join(', ')})`);
    }
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw unacceptableToken(which, 'is not a JWT');
    }
    if (iss === deps.settings.issuer) {
      const check = await deps.accessTokens.check(token);
      if (!check.active) throw unacceptableToken(which, `is not active: ${check.reason}`);
      const claims = check.claims;
      return {
        identityId: holderOf(claims), sub: holderOf(claims), iss: claims.iss, exp: claims.exp, cordon: claims,
        scopes: parseScope(claims.scope), audiences: claims.aud,
      };
    }
    if (type === TOKEN_TYPE_ACCESS) throw unacceptableToken(which, 'is not an access token Cordon issued');
    const workload = await deps.workloadTokens.verify(token, which);
    return {
      identityId: workload.identity.id, sub: String(workload.claims.sub), iss: String(workload.claims.iss ?? workload.issuer.issuer),
      exp: workload.exp, scopes: [...workload.rule.scopes].sort(), audiences: workload.rule.audiences,
      maxTtlSeconds: workload.rule.maxTtlSeconds,
      mayAct: typeof workload.claims.may_act === 'object' && workload.claims.may_act !== null ? workload.claims.may_act as Presented['mayAct'] : undefined,
    };
  }

  async function exchange(request: ExchangeRequest, client: ExchangeClient): Promise<ExchangeResponse> {
    if (request.grantType !== GRANT_TOKEN_EXCHANGE) {
      throw new OAuthError('unsupported_grant_type', `grant_type must be ${GRANT_TOKEN_EXCHANGE}`);
    }
    if (request.requestedTokenType && !(ISSUED_TOKEN_TYPES as readonly string[]).includes(request.requestedTokenType)) {
      throw new OAuthError('invalid_request', `requested_token_type ${request.requestedTokenType} cannot be issued (use ${ISSUED_TOKEN_TYPES.join(', ')})`);
    }
    if (request.actorToken !== undefined && !request.actorTokenType) throw new OAuthError('invalid_request', 'actor_token_type is required with actor_token');
    if (request.actorToken === undefined && request.actorTokenType) throw new OAuthError('invalid_request', 'actor_token_type was given without actor_token');

    const subject = await present(request.subjectToken, request.subjectTokenType, 'subject_token');
    const actor = request.actorToken !== undefined ? await present(request.actorToken, request.actorTokenType!, 'actor_token') : undefined;
    const parent = subject.cordon;
    const sub = parent ? parent.sub : subject.identityId;

    let act: ActClaim | undefined = parent?.act;
    if (actor) {
      if (actor.identityId === subject.identityId) throw unacceptableToken('actor_token', 'names the identity that already holds the subject token');
      const mayAct = subject.mayAct;
      if (mayAct && (mayAct.sub !== actor.sub || (mayAct.iss !== undefined && mayAct.iss !== actor.iss))) {
        throw unacceptableToken('actor_token', 'names an actor the subject token\'s may_act claim does not allow');
      }
      act = { sub: actor.identityId, ...(act ? { act } : {}) };
    }
    const derivedFrom = parent ? [parent.jti, ...parent.derived_from] : [];
    const actors = actorsOf(act);
    const depth = Math.max(derivedFrom.length, actors.length);
    if (depth > deps.settings.maxChainDepth) {
      throw unacceptableToken('subject_token', `would start a chain deeper than ${deps.settings.maxChainDepth} hops`);
    }

    // The task: a derived token keeps its parent's; a first exchange may name one of its identity's.
    let taskId = parent?.task_id;
    let taskExpiresAt = Infinity;
    if (parent) {
      if (request.task !== undefined && request.task !== taskId) throw new OAuthError('invalid_request', 'task cannot change: a derived token stays in the task of its subject token');
    } else if (request.task !== undefined) {
      const task = await deps.tasks.lookup(request.task);
      if (!task || task.identityId !== sub) throw new OAuthError('invalid_request', `task ${request.task} is not a task of ${sub}`);
      if (task.status !== 'active' || deps.revocations.taskEnded(task.id) || task.expiresAt.getTime() <= deps.now()) {
        throw new OAuthError('invalid_request', `task ${request.task} is over`);
      }
      taskId = task.id;
    }
    if (taskId !== undefined) {
      const task = await deps.tasks.lookup(taskId);
      if (task) taskExpiresAt = task.expiresAt.getTime();
    }

    const requestedScopes = request.scope === undefined ? subject.scopes : parseScope(request.scope);
    const extraScopes = notWithin(requestedScopes, subject.scopes);
    if (extraScopes.length) throw new OAuthError('invalid_scope', `scope ${extraScopes.join(' ')} is beyond what the subject token allows (${formatScope(subject.scopes) || 'none'})`);

    let audiences = [...new Set([...request.audience, ...request.resource])];
    if (audiences.length === 0) {
      if (!parent && subject.audiences.length > 1) {
        throw new OAuthError('invalid_request', `audience or resource is required: the binding allows ${subject.audiences.join(', ')}`);
      }
      audiences = subject.audiences;
    }
    const extraAudiences = notWithin(audiences, subject.audiences);
    if (extraAudiences.length) throw new OAuthError('invalid_target', `audience ${extraAudiences.join(', ')} is not one the subject token may reach`);

    const now = deps.now();
    const nowSeconds = Math.floor(now / 1000);
    const exp = Math.floor(Math.min(
      now / 1000 + deps.settings.tokenTtlSeconds,
      now / 1000 + (subject.maxTtlSeconds ?? deps.settings.maxTokenTtlSeconds),
      subject.exp,
      actor?.exp ?? Infinity,
      taskExpiresAt / 1000,
    ));
    if (exp <= nowSeconds) throw unacceptableToken('subject_token', 'leaves no lifetime to give');

    for (const identity of new Set([sub, ...actors])) {
      if (deps.revocations.quarantinedUntil(identity) !== undefined) throw unacceptableToken('subject_token', `speaks for identity ${identity}, which is quarantined`);
      const verdict = await deps.guard.authorize({ principal: { type: 'Identity', id: identity }, action: EXCHANGE_ACTION, resource: { type: 'Audience', id: audiences[0] ?? '' } });
      if (verdict.decision !== 'allow') throw unacceptableToken('subject_token', `speaks for identity ${identity}, which may not receive tokens (${verdict.reasons.join(', ')})`);
    }
    if (deps.policy) {
      for (const audience of audiences) {
        const verdict = await askPolicy(deps.policy, {
          principal: { type: IDENTITY_REFERENCE, id: sub },
          action: { type: ACTION_ENTITY_TYPE, id: EXCHANGE_ACTION.id },
          resource: { type: RESOURCE_ENTITY_TYPE, id: audience },
          context: { scopes: requestedScopes, actors, holder: actor?.identityId ?? subject.identityId, subjectIssuer: subject.iss, client: client.id },
          ...(taskId !== undefined ? { task: { id: taskId } } : {}),
        });
        if (verdict.decision !== 'allow') {
          throw new OAuthError('invalid_target', `policy does not allow ${sub} a token for ${audience}${verdict.reasons.length ? ` (${verdict.reasons.join(', ')})` : ''}`);
        }
      }
    }

    const jti = randomUUID();
    const claims: CordonTokenClaims = {
      iss: deps.settings.issuer, sub, aud: audiences, exp, iat: nowSeconds, nbf: nowSeconds, jti,
      scope: formatScope(requestedScopes), client_id: client.id,
      ...(act ? { act } : {}),
      ...(taskId !== undefined ? { task_id: taskId } : {}),
      derived_from: derivedFrom,
    };
    const { token } = deps.keys.sign(ACCESS_TOKEN_TYP, claims as unknown as Record<string, unknown>);
    const outcome = await deps.recorder.record({
      jti, identityId: holderOf(claims), parentSessionId: parent?.jti ?? null, taskId: taskId ?? null,
      issuedAt: new Date(nowSeconds * 1000), expiresAt: new Date(exp * 1000),
      attributes: { sub, audience: audiences, scopes: requestedScopes, act: actors, task: taskId ?? null, clientId: client.id, subjectIssuer: subject.iss },
      actor: client.actor,
    });
    if (outcome === 'revoked') throw unacceptableToken('subject_token', 'was revoked, or its task ended, while the token was being issued');
    deps.accessTokens.remember(token, claims);
    return {
      access_token: token,
      issued_token_type: request.requestedTokenType ?? TOKEN_TYPE_ACCESS,
      token_type: 'Bearer',
      expires_in: exp - nowSeconds,
      scope: claims.scope,
    };
  }

  return { exchange, present };
}

export type TokenExchanger = ReturnType<typeof tokenExchanger>;
