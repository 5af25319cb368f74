import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
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
const skip = (await skipUnless('rabbitmq')) || (await skipUnless('rabbitmq-management'));

async function rabbit(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:15672/api${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return response.status === 200 ? response.json() : undefined;
}

/**
 * The management statistics list a connection some seconds after it opens (and drop it some
 * seconds after it closes): wait, bounded, until they show what the test expects.
 */
async function untilListed(user: string, count: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const listed = await rabbit('GET', '/connections?columns=user') as { user: string }[];
    if (listed.filter((c) => c.user === user).length === count) return;
    await delay(100);
  }
  assert.fail(`the management API never listed ${count} connection(s) of ${user}`);
}

describe('RabbitMQ discovery against the real server', { skip }, () => {
  let store: TestStore;
  let connection: amqp.ChannelModel;
  const seal = sealer(new Uint8Array(32).fill(3));
  const discover = () => discoveryService({ db: store.db, sealer: seal }).discover('mq', actor);

  before(async () => {
    for (const name of [app, declared]) {
      await rabbit('PUT', `/users/${name}`, { password: `pw-${name}`, tags: [] });
      await rabbit('PUT', `/permissions/%2F/${name}`, { configure: '', write: '^events$', read: '^orders\\.' });
    }
    store = await openTestStore('pglite');
    const doc = `apiVersion: cordon/v1
kind: Inventory
connectors:
  - { id: mq, type: rabbitmq, environment: staging, params: { host: 127.0.0.1, amqpPort: 5672, managementPort: 15672, vhost: /, user: guest, password: env:CORDON_TEST_RABBIT_PASSWORD } }
identities:
  - { id: declared, kind: service_account, name: declared, provider: rabbitmq, connector: mq, externalRef: ${declared}, environment: staging, status: active }
`;
    process.env.CORDON_TEST_RABBIT_PASSWORD = 'guest';
    await inventoryImporter({ db: store.db, fingerprint: TEST_FINGERPRINT, sealer: seal }).importSources([parseInventoryText(doc, 'inline.yaml')], actor);
    connection = await amqp.connect({ hostname: '127.0.0.1', username: app, password: `pw-${app}` }, { clientProperties: { connection_name: 'orders-worker' } });
    await untilListed(app, 1);
  });

  after(async () => {
    await connection?.close().catch(() => undefined);
    await store?.close();
    for (const name of [app, declared]) await rabbit('DELETE', `/users/${name}`);
  });

  test('finds users, their connections and their permissions per vhost', async () => {
    await discover();
    const identity = await store.db.selectFrom('identities').selectAll().where('id', '=', `mq:${app}`).executeTakeFirstOrThrow();
    assert.equal(identity.provider, 'rabbitmq');
    assert.equal(identity.source, 'discovery');

    const sessions = await store.db.selectFrom('sessions').selectAll().where('identityId', '=', `mq:${app}`).execute();
    assert.deepEqual(sessions.map((s) => [s.status, s.attributes.vhost, s.attributes.connectionName]), [['active', '/', 'orders-worker']]);

    const grants = await store.db.selectFrom('grants').select(['resourceId', 'permissions']).where('identityId', '=', `mq:${app}`).execute();
    assert.deepEqual(grants, [{ resourceId: 'mq:vhost /', permissions: ['configure:', 'read:^orders\\.', 'write:^events$'] }]);
  });

  test('a declared identity is matched by its user name, not duplicated', async () => {
    const rows = await store.db.selectFrom('identities').select('id').where('externalRef', '=', declared).execute();
    assert.deepEqual(rows, [{ id: 'declared' }]);
  });

  test('a user limited to no connections is shown disabled, and a closed connection ended', async () => {
    await rabbit('PUT', `/user-limits/${declared}/max-connections`, { value: 0 });
    await connection.close();
    await untilListed(app, 0);
    const summary = await discover();
    // Other test files open and close sessions on the same server at the same time.
    assert.ok(summary.sessions.ended >= 1);
    const sessions = await store.db.selectFrom('sessions').select('status').where('identityId', '=', `mq:${app}`).execute();
    assert.deepEqual(sessions, [{ status: 'ended' }]);
    const row = await store.db.selectFrom('identities').select('status').where('id', '=', 'declared').executeTakeFirstOrThrow();
    assert.equal(row.status, 'disabled');
  });
});
