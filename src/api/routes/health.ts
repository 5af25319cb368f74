import { sql } from 'kysely';
import Type from 'typebox';
import type { Api } from '../server.js';

const Health = Type.Object({
  status: Type.Literal('ok'),
  store: Type.Union([Type.Literal('pglite'), Type.Literal('postgres')]),
  version: Type.String(),
});

export async function healthRoutes(app: Api): Promise<void> {
  app.get('/healthz', {
    config: { public: true },
    schema: { summary: 'Liveness and store reachability', tags: ['health'], security: [], response: { 200: Health } },
  }, async () => {
    await sql`select 1`.execute(app.cordon.db);
    return { status: 'ok' as const, store: app.cordon.store.kind, version: app.cordon.version };
  });
}
