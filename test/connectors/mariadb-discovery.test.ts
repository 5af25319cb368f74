import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
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
const schema = uniqueName('cordon_t_db');

async function rootQuery(sql: string, values: unknown[] = []): Promise<mysql.RowDataPacket[]> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  try {
    return (await connection.query<mysql.RowDataPacket[]>(sql, values))[0];
  } finally {
    await connection.end();
  }
}

describe('MariaDB discovery against the real server', { skip: await skipUnless('mariadb') }, () => {
  let store: TestStore;
  let connection: mysql.Connection;
  const seal = sealer(new Uint8Array(32).fill(3));
  const discover = () => discoveryService({ db: store.db, sealer: seal }).discover('mdb', actor);

  before(async () => {
    await rootQuery('create user ?@? identified by ?', [app, '%', `pw-${app}`]);
    await rootQuery('create user ?@? identified by ?', [declared, '%', `pw-${declared}`]);
    await rootQuery(`create database ${schema}`);
    await rootQuery(`create table ${schema}.orders (id int primary key)`);
    await rootQuery(`grant select, insert on ${schema}.orders to ?@?`, [app, '%']);
    await rootQuery(`grant select on ${schema}.* to ?@?`, [declared, '%']);
    store = await openTestStore('pglite');
    const doc = `apiVersion: cordon/v1
kind: Inventory
connectors:
  - { id: mdb, type: mariadb, environment: staging, params: { host: 127.0.0.1, port: 3306, user: root } }
identities:
  - { id: declared, kind: db_role, name: declared, provider: mariadb, connector: mdb, externalRef: "${declared}@%", environment: staging, status: active }
`;
    await inventoryImporter({ db: store.db, fingerprint: TEST_FINGERPRINT, sealer: seal }).importSources([parseInventoryText(doc, 'inline.yaml')], actor);
    connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: app, password: `pw-${app}`, database: schema });
  });

  after(async () => {
    await connection?.end().catch(() => undefined);
    await store?.close();
    await rootQuery(`drop database if exists ${schema}`);
    await rootQuery('drop user if exists ?@?', [app, '%']);
    await rootQuery('drop user if exists ?@?', [declared, '%']);
  });

  test('finds accounts as user@host, their live connections and their grants', async () => {
    await discover();
    const identity = await store.db.selectFrom('identities').selectAll().where('id', '=', `mdb:${app}@%`).executeTakeFirstOrThrow();
    assert.equal(identity.source, 'discovery');
    assert.equal(identity.provider, 'mariadb');
    assert.equal(identity.externalRef, `${app}@%`);
    assert.deepEqual((identity.attributes.discovered as { plugins: string[] }).plugins, ['mysql_native_password']);

    const [rows] = await connection.query<mysql.RowDataPacket[]>('select connection_id() as id');
    const id = rows[0]!.id as number;
    const sessions = await store.db.selectFrom('sessions').selectAll().where('identityId', '=', `mdb:${app}@%`).execute();
    assert.deepEqual(sessions.map((s) => [s.id, s.status, s.attributes.connectionId, s.attributes.database]), [[`mdb:connection ${id}`, 'active', id, schema]]);

    const grants = await store.db.selectFrom('grants').select(['identityId', 'resourceId', 'permissions']).where('identityId', 'in', [`mdb:${app}@%`, 'declared']).orderBy('identityId').execute();
    assert.deepEqual(grants, [
      { identityId: 'declared', resourceId: `mdb:${schema}.*`, permissions: ['SELECT'] },
      { identityId: `mdb:${app}@%`, resourceId: `mdb:${schema}.orders`, permissions: ['INSERT', 'SELECT'] },
    ]);
  });

  test('a declared identity is matched by its user@host external ref, not duplicated', async () => {
    const rows = await store.db.selectFrom('identities').select('id').where('externalRef', '=', `${declared}@%`).execute();
    assert.deepEqual(rows, [{ id: 'declared' }]);
  });

  test('a locked account is shown disabled, and a closed connection ended', async () => {
    await rootQuery('alter user ?@? account lock', [declared, '%']);
    await connection.end();
    // The server drops a closed connection asynchronously; wait for PROCESSLIST to say so.
    for (let i = 0; i < 200 && (await rootQuery('select ID from information_schema.PROCESSLIST where USER = ?', [app])).length > 0; i++);
    const summary = await discover();
    // Other test files open and close sessions on the same server at the same time.
    assert.ok(summary.sessions.ended >= 1);
    const sessions = await store.db.selectFrom('sessions').select('status').where('identityId', '=', `mdb:${app}@%`).execute();
    assert.deepEqual(sessions, [{ status: 'ended' }]);
    const row = await store.db.selectFrom('identities').select('status').where('id', '=', 'declared').executeTakeFirstOrThrow();
    assert.equal(row.status, 'disabled');
  });
});
