import { API_ROLES } from '../../domain/roles.js';
import type { Api } from '../server.js';

/** The OpenAPI document; like every route but health, JWKS and discovery, it needs a token. */
export async function openapiRoutes(app: Api): Promise<void> {
  app.get('/openapi.json', {
    config: { roles: API_ROLES },
    schema: { hide: true },
  }, async () => app.swagger());
}
