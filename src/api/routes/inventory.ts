import Type from 'typebox';
import { ADMINS } from '../../domain/roles.js';
import { exportInventory } from '../../inventory/export.js';
import { InventorySpec } from '../../inventory/schema.js';
import type { InventorySource } from '../../inventory/source.js';
import { actorOf } from '../auth.js';
import { responses } from '../schemas.js';
import type { Api } from '../server.js';

const Counts = Type.Object({ created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer() });
const ImportSummary = Type.Object(Object.fromEntries(
  ['teams', 'connectors', 'resources', 'identities', 'credentials', 'grants', 'edges'].map((k) => [k, Counts]),
));

export async function inventoryRoutes(app: Api): Promise<void> {
  app.post('/v1/inventory', {
    config: { roles: ADMINS },
    bodyLimit: 20 * 1024 * 1024,
    schema: {
      summary: 'Import an inventory document (JSON or YAML); all or nothing, idempotent',
      tags: ['inventory'],
      body: InventorySpec,
      response: responses(200, ImportSummary),
    },
  }, async (request) => {
    const source: InventorySource = { file: 'request body', document: request.body, locate: () => 'request body' };
    return app.cordon.inventory.importSources([source], actorOf(request));
  });

  app.get('/v1/inventory', {
    config: { roles: ADMINS },
    schema: { summary: 'Export the stored inventory (fingerprints, never values)', tags: ['inventory'], response: responses(200, InventorySpec) },
  }, async () => exportInventory(app.cordon.db));
}
