import Type from 'typebox';
import type { Api } from '../server.js';

const Jwks = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }, { description: 'RFC 7517 JWK Set' });

/** The broker's public keys and its discovery document: the only public routes besides health. */
export async function wellKnownRoutes(app: Api): Promise<void> {
  app.get('/.well-known/jwks.json', {
    config: { public: true },
    schema: { summary: 'Public keys that verify Cordon tokens and security event tokens', tags: ['broker'], security: [], response: { 200: Jwks } },
  }, async (_request, reply) => {
    // New keys are published before they sign, so relying parties may cache this briefly.
    reply.header('cache-control', 'public, max-age=300');
    return app.cordon.broker.jwks();
  });

  app.get('/.well-known/openid-configuration', {
    config: { public: true },
    schema: { summary: 'OpenID provider metadata of the broker', tags: ['broker'], security: [], response: { 200: Type.Record(Type.String(), Type.Unknown()) } },
  }, async () => app.cordon.broker.discovery());
}
