import Type from 'typebox';
import { ADMINS, API_ROLES } from '../../domain/roles.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  subject: Type.String(),
  role: Type.Enum(API_ROLES),
  createdBy: Type.String(),
  createdAt: DateTime,
  expiresAt: NullableDateTime,
  lastUsedAt: NullableDateTime,
  revokedAt: NullableDateTime,
});

export async function tokenRoutes(app: Api): Promise<void> {
  app.post('/v1/tokens', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Create an API token; the token is in this response only',
      tags: ['tokens'],
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 200 }),
        subject: Type.String({ minLength: 1, maxLength: 200, description: 'The person or service using it; separation of duties compares subjects' }),
        role: Type.Enum(API_ROLES),
        expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
      }, { additionalProperties: false }),
      response: responses(201, Type.Object({ token: Type.String(), info: TokenInfo })),
    },
  }, async (request, reply) => {
    const { expiresAt, ...input } = request.body;
    const created = await app.cordon.tokens.createToken({ ...input, expiresAt: expiresAt ? new Date(expiresAt) : undefined }, actorOf(request));
    return reply.code(201).send(created);
  });

  app.get('/v1/tokens', {
    config: { roles: ADMINS },
    schema: { summary: 'List API tokens (never their values)', tags: ['tokens'], response: responses(200, Type.Object({ items: Type.Array(TokenInfo) })) },
  }, async () => ({ items: await app.cordon.tokens.listTokens() }));

  app.delete('/v1/tokens/:id', {
    config: { roles: ADMINS },
    schema: { summary: 'Revoke an API token', tags: ['tokens'], params: IdParam, response: responses(200, TokenInfo, [404]) },
  }, async (request) => app.cordon.tokens.revokeToken(request.params.id, actorOf(request)));
}
