import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { discoveryService } from '../../src/inventory/discovery.js';
import { inventoryImporter } from '../../src/inventory/import.js';
import { parseInventoryText } from '../../src/inventory/source.js';
import { sealer } from '../../src/secrets/sealed.js';
import { adminQuery, openTestStore, type TestStore } from '../helpers/store.js';
import { skipUnless } from '../helpers/services.js';
import { TEST_FINGERPRINT } from '../helpers/seed.js';

const actor = { id: 'test', subject: 'tester' };
const suffix = randomBytes(3).toString('hex');
const target = `cordon_tgt_${suffix}`;
const appRole = `cordon_t_app_${suffix}`;
const declaredRole = `cordon_t_declared_${suffix}`;

describe('PostgreSQL discovery against the real server', { skip: await skipUnless('postgres') }, () => {
  let store: TestStore;
  let session: pg.Client;
  const seal = sealer(new Uint8Array(32).fill(3));

  before(async () => {
    await adminQuery(`create database ${target}`);
    await adminQuery(`create role ${appRole} login password 'pw-${suffix}'`);
    await adminQuery(`create role ${declaredRole} login`);
    const setup = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${target}` });
    await setup.connect();
    await setup.query('create table invoices (id int primary key)');
    await setup.query(`grant select, insert on invoices to ${appRole}`);
    await setup.end();

    store = await openTestStore('postgres');
    const doc = `apiVersion: cordon/v1
kind: Inventory
connectors:
  - { id: pgt, type: postgres, environment: staging, params: { host: 127.0.0.1, port: 5432, database: ${target}, user: postgres } }
identities:
  - { id: declared, kind: db_role, name: declared, provider: postgres, connector: pgt, externalRef: ${declaredRole}, environment: staging, status: active }
`;
    await inventoryImporter({ db: store.db, fingerprint: TEST_FINGERPRINT, sealer: seal }).importSources([parseInventoryText(doc, 'inline.yaml')], actor);
    session = new pg.Client({ connectionString: `postgres://${appRole}:pw-${suffix}@127.0.0.1:5432/${target}`, application_name: 'invoice-worker' });
    await session.connect();
  });

  after(async () => {
    await session?.end().catch(() => undefined);
    await store?.close();
    await adminQuery(`drop database if exists ${target} with (force)`);
    await adminQuery(`drop role if exists ${appRole}`);
    await adminQuery(`drop role if exists ${declaredRole}`);
  });

  test('finds login roles, their live sessions and their grants', async () => {
    const discovery = discoveryService({ db: store.db, sealer: seal });
    const summary = await discovery.discover('pgt', actor);
    assert.ok(summary.identities.found >= 3);
    const app = await store.db.selectFrom('identities').selectAll().where('id', '=', `pgt:${appRole}`).executeTakeFirstOrThrow();
    assert.equal(app.source, 'discovery');
    assert.equal(app.environment, 'staging');
    assert.equal(app.attributes.discovered && (app.attributes.discovered as { canLogin: boolean }).canLogin, true);
    assert.ok(app.lastUsedAt, 'an identity with a live session is in use');

    const { rows: [{ pid }] } = await session.query('select pg_backend_pid() as pid');
    const sessions = await store.db.selectFrom('sessions').selectAll().where('identityId', '=', `pgt:${appRole}`).execute();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.status, 'active');
    assert.equal(sessions[0]!.attributes.pid, pid);
    assert.equal(sessions[0]!.attributes.application, 'invoice-worker');

    const grants = await store.db.selectFrom('grants').select(['resourceId', 'permissions']).where('identityId', '=', `pgt:${appRole}`).orderBy('resourceId').execute();
    assert.deepEqual(grants.find((g) => g.resourceId === `pgt:${target}.public.invoices`)?.permissions, ['INSERT', 'SELECT']);
  });

  test('a declared identity is matched by its external ref, not duplicated', async () => {
    const rows = await store.db.selectFrom('identities').select('id').where('externalRef', '=', declaredRole).execute();
    assert.deepEqual(rows, [{ id: 'declared' }]);
  });

  test('a role that can no longer log in is shown disabled, and an ended session is closed', async () => {
    await adminQuery(`alter role ${declaredRole} nologin`);
    await session.end();
    // The server removes the backend asynchronously; wait for pg_stat_activity to say so.
    for (let i = 0; i < 200 && Number((await adminQuery('select count(*) as n from pg_stat_activity where usename = $1', [appRole])).rows[0].n) > 0; i++);
    const summary = await discoveryService({ db: store.db, sealer: seal }).discover('pgt', actor);
    // Other test files open and close sessions on the same server at the same time.
    assert.ok(summary.sessions.ended >= 1);
    const declared = await store.db.selectFrom('identities').select('status').where('id', '=', 'declared').executeTakeFirstOrThrow();
    assert.equal(declared.status, 'disabled');
    const sessions = await store.db.selectFrom('sessions').select(['status', 'endedAt']).where('identityId', '=', `pgt:${appRole}`).execute();
    assert.equal(sessions[0]!.status, 'ended');
    assert.ok(sessions[0]!.endedAt);
  });

  test('each discovery run is audited with its counts', async () => {
    const rows = await store.db.selectFrom('auditLog').select(['action', 'subject', 'payload']).where('action', '=', 'connector.discovered').execute();
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.subject, 'connector:pgt');
  });

  test('an unreachable server is reported as unavailable, naming it', async () => {
    const doc = `apiVersion: cordon/v1
kind: Inventory
connectors:
  - { id: pg-down, type: postgres, params: { host: 127.0.0.1, port: 1, database: x, user: postgres, connectTimeoutMs: 500 } }
`;
    await inventoryImporter({ db: store.db, fingerprint: TEST_FINGERPRINT, sealer: seal }).importSources([parseInventoryText(doc, 'down.yaml')], actor);
    await assert.rejects(discoveryService({ db: store.db, sealer: seal }).discover('pg-down', actor), (error: Error & { code?: string }) =>
      error.code === 'ERR_CONNECTOR_UNREACHABLE' && /127\.0\.0\.1:1/.test(error.message));
  });
});
