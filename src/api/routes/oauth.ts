import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { OAuthError } from '../../broker/oauth-error.js';
import { CordonError, ForbiddenError, InvalidInputError, UnauthenticatedError, UnavailableError } from '../../domain/errors.js';
import { WORKLOADS } from '../../domain/roles.js';
import { actorOf } from '../auth.js';
import type { Api } from '../server.js';

/** RFC 6749 §5.2 error response body. */
const OAuthErrorBody = Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) }, { description: 'RFC 6749 §5.2 error' });
const FORM = 'application/x-www-form-urlencoded';
/** A form parameter: a string, or several when it was repeated. */
const Param = Type.Union([Type.String(), Type.Array(Type.String())]);

const TokenRequest = Type.Object({
  grant_type: Param,
  subject_token: Param,
  subject_token_type: Param,
  actor_token: Type.Optional(Param),
  actor_token_type: Type.Optional(Param),
  requested_token_type: Type.Optional(Param),
  audience: Type.Optional(Param),
  resource: Type.Optional(Param),
  scope: Type.Optional(Param),
  task_id: Type.Optional(Type.Union([Param], { description: 'Cordon extension: bind the token to this task' })),
}, { additionalProperties: true, description: 'RFC 8693 §2.1 token exchange request (form-encoded)' });

const TokenResponse = Type.Object({
  access_token: Type.String(),
  issued_token_type: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
});

const TokenParam = Type.Object({ token: Param, token_type_hint: Type.Optional(Param) }, { additionalProperties: true });

type Form = Record<string, string | string[] | undefined>;

/** RFC 6749 §3.2: a parameter other than audience and resource may appear once. */
function single(form: Form, name: string, required: true): string;
function single(form: Form, name: string, required?: false): string | undefined;
function single(form: Form, name: string, required = false): string | undefined {
  const value = form[name];
  if (Array.isArray(value)) throw new OAuthError('invalid_request', `${name} was given more than once`);
  if (value === undefined || value === '') {
    if (required) throw new OAuthError('invalid_request', `${name} is required`);
    return undefined;
  }
  return value;
}

function multi(form: Form, name: string): string[] {
  const value = form[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== '');
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="cordon"');
  return reply.code(status).type('application/json').header('cache-control', 'no-store').header('pragma', 'no-cache')
    .send({ error, error_description: description });
}

/**
 * RFC 8693 token exchange, RFC 7662 introspection and RFC 7009 revocation. The client
 * authenticates with an API token (workload or admin role); bodies are form-encoded; errors are
 * RFC 6749 §5.2 JSON, not problem+json, through this plugin's own error handler.
 */
export async function oauthRoutes(app: Api): Promise<void> {
  app.setErrorHandler((error: FastifyError | CordonError, request: FastifyRequest, reply) => {
    if (error instanceof OAuthError) return oauthError(reply, 400, error.error, error.message);
    if (error instanceof UnauthenticatedError) return oauthError(reply, 401, 'invalid_client', error.message);
    if (error instanceof ForbiddenError) return oauthError(reply, 400, 'unauthorized_client', error.message);
    if (error instanceof UnavailableError) return oauthError(reply, 503, 'temporarily_unavailable', error.message);
    if (error instanceof InvalidInputError) return oauthError(reply, 400, 'invalid_request', error.message);
    if ((error as FastifyError).validation) {
      const fields = ((error as FastifyError).validation ?? []).map((v) => v.instancePath || (v.params as { requiredProperties?: string[]; missingProperty?: string }).requiredProperties?.[0] || (v.params as { missingProperty?: string }).missingProperty || '').filter(Boolean);
      return oauthError(reply, 400, 'invalid_request', `invalid or missing parameter${fields.length ? `: ${[...new Set(fields)].map((f) => f.replace(/^\//, '')).join(', ')}` : 's'}`);
    }
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return oauthError(reply, 400, 'invalid_request', error.message);
    request.log.error({ err: error }, 'OAuth request failed');
    return oauthError(reply, 500, 'server_error', 'an unexpected error occurred; it has been logged');
  });
  app.addHook('preValidation', async (request) => {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== FORM) throw new OAuthError('invalid_request', `the body must be ${FORM}`);
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });

  const errors = { 400: OAuthErrorBody, 401: OAuthErrorBody, 503: OAuthErrorBody };

  app.post('/oauth2/token', {
    config: { roles: WORKLOADS },
    schema: {
      summary: 'RFC 8693 token exchange: a workload or Cordon token for a short-lived Cordon token',
      tags: ['oauth'], consumes: [FORM], body: TokenRequest, response: { 200: TokenResponse, ...errors },
    },
  }, async (request) => {
    const form = request.body as Form;
    const grantType = single(form, 'grant_type', true);
    return app.cordon.broker.exchange({
      grantType,
      subjectToken: single(form, 'subject_token', true),
      subjectTokenType: single(form, 'subject_token_type', true),
      actorToken: single(form, 'actor_token'),
      actorTokenType: single(form, 'actor_token_type'),
      requestedTokenType: single(form, 'requested_token_type'),
      audience: multi(form, 'audience'),
      resource: multi(form, 'resource'),
      scope: single(form, 'scope'),
      task: single(form, 'task_id'),
    }, { id: request.principal!.tokenId, actor: actorOf(request) });
  });

  app.post('/oauth2/introspect', {
    config: { roles: WORKLOADS },
    schema: {
      summary: 'RFC 7662 introspection: whether a Cordon token is active, and its claims',
      tags: ['oauth'], consumes: [FORM], body: TokenParam,
      response: { 200: Type.Object({ active: Type.Boolean() }, { additionalProperties: true }), ...errors },
    },
  }, async (request) => (await app.cordon.broker.introspect(single(request.body as Form, 'token', true))) as { active: boolean });

  app.post('/oauth2/revoke', {
    config: { roles: WORKLOADS },
    schema: {
      summary: 'RFC 7009 revocation: the token and every token derived from it',
      tags: ['oauth'], consumes: [FORM], body: TokenParam, response: errors,
      description: 'Answers 200 with an empty body whether or not there was anything to revoke (RFC 7009 §2.2).',
    },
  }, async (request, reply) => {
    const form = request.body as Form;
    single(form, 'token_type_hint');
    await app.cordon.broker.revokeToken(single(form, 'token', true), actorOf(request));
    return (reply as FastifyReply).code(200).send();
  });
}
