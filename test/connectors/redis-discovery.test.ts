import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { discoveryService } from '../../src/inventory/discovery.js';
import { inventoryImporter } from '../../src/inventory/import.js';
import { parseInventoryText } from '../../src/inventory/source.js';
import { sealer } from '../../src/secrets/sealed.js';
import { uniqueName } from '../helpers/connectors.js';
import { TEST_FINGERPRINT } from '../helpers/seed.js';
import { skipUnless } from '../helpers/services.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

const actor = { id: 'test', subject: 'tester' };
const app = uniqueName('cordon_t_app');
const declared = uniqueName('cordon_t_declared');

function connect(username?: string, password?: string): Redis {
  const client = new Redis({ host: '127.0.0.1', port: 6379, username, password, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  return client;
}

describe('Redis discovery against the real server', { skip: await skipUnless('redis') }, () => {
  let store: TestStore;
  let admin: Redis;
  let client: Redis;
  const seal = sealer(new Uint8Array(32).fill(3));
  const discover = () => discoveryService({ db: store.db, sealer: seal }).discover('rds', actor);

  before(async () => {
    admin = connect();
    await admin.connect();
    await admin.call('ACL', 'SETUSER', app, 'on', `>pw-${app}`, '~session:*', '~cart:*', '+@read', '+@write', '+client|id');
    await admin.call('ACL', 'SETUSER', declared, 'on', `>pw-${declared}`, '~jobs:*', '+@all');
    store = await openTestStore('pglite');
    const doc = `apiVersion: cordon/v1
kind: Inventory
connectors:
  - { id: rds, type: redis, environment: staging, params: { host: 127.0.0.1, port: 6379 } }
identities:
  - { id: declared, kind: service_account, name: declared, provider: redis, connector: rds, externalRef: ${declared}, environment: staging, status: active }
`;
    await inventoryImporter({ db: store.db, fingerprint: TEST_FINGERPRINT, sealer: seal }).importSources([parseInventoryText(doc, 'inline.yaml')], actor);
    client = connect(app, `pw-${app}`);
    await client.connect();
  });

  after(async () => {
    client?.disconnect();
    await store?.close();
    await admin?.call('ACL', 'DELUSER', app, declared);
    admin?.disconnect();
  });

  test('finds ACL users, their connected clients and the key patterns they may use', async () => {
    await discover();
    const identity = await store.db.selectFrom('identities').selectAll().where('id', '=', `rds:${app}`).executeTakeFirstOrThrow();
    assert.equal(identity.provider, 'redis');
    assert.equal(identity.source, 'discovery');
    assert.equal((identity.attributes.discovered as { passwordCount: number }).passwordCount, 1);

    const id = String(await client.call('CLIENT', 'ID'));
    const sessions = await store.db.selectFrom('sessions').selectAll().where('identityId', '=', `rds:${app}`).execute();
    assert.deepEqual(sessions.map((s) => [s.status, s.attributes.clientId]), [['active', id]]);

    const grants = await store.db.selectFrom('grants').select(['resourceId', 'permissions']).where('identityId', '=', `rds:${app}`).orderBy('resourceId').execute();
    assert.deepEqual(grants.map((g) => g.resourceId), ['rds:keys ~cart:*', 'rds:keys ~session:*']);
    assert.ok(grants.every((g) => g.permissions.includes('+@read') && g.permissions.includes('+@write')));
  });

  test('a declared identity is matched by its ACL user name, not duplicated', async () => {
    const rows = await store.db.selectFrom('identities').select('id').where('externalRef', '=', declared).execute();
    assert.deepEqual(rows, [{ id: 'declared' }]);
  });

  test('a user that is off is shown disabled, and a closed client ended', async () => {
    await admin.call('ACL', 'SETUSER', declared, 'off');
    await admin.call('CLIENT', 'KILL', 'USER', app);
    const summary = await discover();
    // Other test files open and close sessions on the same server at the same time.
    assert.ok(summary.sessions.ended >= 1);
    const sessions = await store.db.selectFrom('sessions').select('status').where('identityId', '=', `rds:${app}`).execute();
    assert.deepEqual(sessions, [{ status: 'ended' }]);
    const row = await store.db.selectFrom('identities').select('status').where('id', '=', 'declared').executeTakeFirstOrThrow();
    assert.equal(row.status, 'disabled');
  });
});
