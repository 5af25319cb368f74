import Type from 'typebox';
import { API_ROLES } from '../../domain/roles.js';
import { UnauthenticatedError } from '../../domain/errors.js';
import { responses } from '../schemas.js';
import type { Api } from '../server.js';

const Me = Type.Object({
  subject: Type.String({ description: 'The person or service the token was issued to' }),
  role: Type.Enum(API_ROLES),
  tokenId: Type.String(),
});

/** Who the caller's token speaks for: the console signs in with it and shows what the role may do. */
export async function sessionRoutes(app: Api): Promise<void> {
  app.get('/v1/me', {
    config: { roles: API_ROLES },
    schema: { summary: 'The subject and role of the calling API token', tags: ['tokens'], response: responses(200, Me) },
  }, async (request) => {
    const principal = request.principal;
    if (!principal) throw new UnauthenticatedError('ERR_TOKEN_MISSING', 'an API token is required');
    return { subject: principal.subject, role: principal.role, tokenId: principal.tokenId };
  });
}
