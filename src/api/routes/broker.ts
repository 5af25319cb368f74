import Type from 'typebox';
import { Receiver } from '../../broker/caep.js';
import { TrustedIssuer } from '../../broker/issuers/schema.js';
import { InvalidInputError } from '../../domain/errors.js';
import { ADMINS, RESPONDERS } from '../../domain/roles.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

const ReceiverInfo = Type.Object({
  id: Type.String(), endpoint: Type.String(), audience: Type.String(), events: Type.Array(Type.String()),
  authorization: Type.Boolean({ description: 'Whether an Authorization header is configured (never shown)' }),
  createdAt: DateTime, updatedAt: DateTime,
});
const SigningKey = Type.Object({ kid: Type.String(), alg: Type.String(), createdAt: DateTime, activatesAt: DateTime, expiresAt: NullableDateTime });
const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });

function sameId(param: string, body: { id: string }): void {
  if (param !== body.id) throw new InvalidInputError('ERR_VALIDATION', `the body's id "${body.id}" is not the id in the path "${param}"`, [{ path: '/id', message: 'must equal the id in the path', in: 'body' }]);
}

/** Broker administration (issuers, receivers, keys) and containment of an identity's broker tokens. */
export async function brokerRoutes(app: Api): Promise<void> {
  app.get('/v1/broker/issuers', {
    config: { roles: ADMINS },
    schema: { summary: 'Trusted workload issuers and their binding rules', tags: ['broker'], response: responses(200, Type.Object({ items: Type.Array(TrustedIssuer) })) },
  }, async () => ({ items: await app.cordon.broker.issuers.list() }));

  app.put('/v1/broker/issuers/:id', {
    config: { roles: ADMINS },
    schema: { summary: 'Trust a workload issuer (create or replace)', tags: ['broker'], params: IdParam, body: TrustedIssuer, response: responses(200, TrustedIssuer) },
  }, async (request) => {
    sameId(request.params.id, request.body);
    return app.cordon.broker.issuers.save(request.body, actorOf(request));
  });

  app.delete('/v1/broker/issuers/:id', {
    config: { roles: ADMINS },
    schema: { summary: 'Stop trusting a workload issuer', tags: ['broker'], params: IdParam, response: responses(200, Type.Object({ deleted: Type.String() }), [404]) },
  }, async (request) => {
    await app.cordon.broker.issuers.remove(request.params.id, actorOf(request));
    return { deleted: request.params.id };
  });

  app.get('/v1/broker/receivers', {
    config: { roles: ADMINS },
    schema: { summary: 'CAEP receivers (RFC 8935 push)', tags: ['broker'], response: responses(200, Type.Object({ items: Type.Array(ReceiverInfo) })) },
  }, async () => ({ items: await app.cordon.broker.receivers.list() }));

  app.put('/v1/broker/receivers/:id', {
    config: { roles: ADMINS },
    schema: { summary: 'Register a CAEP receiver (create or replace)', tags: ['broker'], params: IdParam, body: Receiver, response: responses(200, ReceiverInfo) },
  }, async (request) => {
    sameId(request.params.id, request.body);
    return app.cordon.broker.receivers.save(request.body, actorOf(request));
  });

  app.delete('/v1/broker/receivers/:id', {
    config: { roles: ADMINS },
    schema: { summary: 'Remove a CAEP receiver', tags: ['broker'], params: IdParam, response: responses(200, Type.Object({ deleted: Type.String() }), [404]) },
  }, async (request) => {
    await app.cordon.broker.receivers.remove(request.params.id, actorOf(request));
    return { deleted: request.params.id };
  });

  app.get('/v1/broker/keys', {
    config: { roles: ADMINS },
    schema: { summary: 'Signing keys (public facts only)', tags: ['broker'], response: responses(200, Type.Object({ items: Type.Array(SigningKey) })) },
  }, async () => ({ items: await app.cordon.broker.keys.list() }));

  app.post('/v1/broker/keys/rotate', {
    config: { roles: ADMINS },
    schema: { summary: 'Rotate the signing key now; older keys stay in the JWKS until their tokens expire', tags: ['broker'], response: responses(200, Type.Object({ rotated: Type.Boolean(), kid: Type.Optional(Type.String()) })) },
  }, async (request) => app.cordon.broker.keys.rotate(actorOf(request)));

  app.post('/v1/broker/identities/:id/revoke-sessions', {
    config: { roles: RESPONDERS },
    schema: { summary: 'Revoke every broker token of the identity and everything derived from them', tags: ['broker'], params: IdParam, body: Reason, response: responses(200, Type.Object({ revoked: Type.Array(Type.String()) })) },
  }, async (request) => ({ revoked: await app.cordon.broker.revokeSessions(request.params.id, actorOf(request), request.body.reason) }));

  app.post('/v1/broker/identities/:id/quarantine', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Suspend the identity\'s broker tokens and refuse it new ones, until released or until it expires',
      tags: ['broker'], params: IdParam,
      body: Type.Object({ reason: Reason.properties.reason, ttlSeconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400 }) }, { additionalProperties: false }),
      response: responses(200, Type.Object({ identityId: Type.String(), until: DateTime })),
    },
  }, async (request) => app.cordon.broker.quarantine(request.params.id, new Date(Date.now() + request.body.ttlSeconds * 1000), actorOf(request), request.body.reason));

  app.post('/v1/broker/identities/:id/release', {
    config: { roles: RESPONDERS },
    schema: { summary: 'Lift a broker quarantine early', tags: ['broker'], params: IdParam, body: Reason, response: responses(200, Type.Object({ identityId: Type.String() })) },
  }, async (request) => app.cordon.broker.release(request.params.id, actorOf(request), request.body.reason));
}
