import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { uniqueName } from '../helpers/connectors.js';
import { raiseDetection, settledResponse, startResponder } from '../helpers/respond.js';
import { skipUnless } from '../helpers/services.js';
import { adminQuery, openTestStore } from '../helpers/store.js';

describe('a playbook removing an overprivileged grant on the real PostgreSQL', { skip: await skipUnless('postgres') }, () => {
  const database = uniqueName('cordon_t_grant');
  const role = uniqueName('cordon_t_writer');
  let dir: string;
  let t: TestApp;
  let responder: ReturnType<typeof startResponder>;

  before(async () => {
    await adminQuery(`create database ${database}`);
    await adminQuery(`create role ${role} login`);
    const client = (await import('pg')).default.Client;
    const db = new client({ host: '127.0.0.1', port: 5432, database, user: 'postgres' });
    await db.connect();
    await db.query('create table orders (id int)');
    await db.query(`grant select, insert on orders to ${role}`);
    await db.end();
    dir = await mkdtemp(join(tmpdir(), 'cordon-grant-'));
    await writeFile(join(dir, 'least-privilege.yaml'), `apiVersion: cordon/v1
kind: Playbook
id: least-privilege
title: Take back what a writer should not have
match:
  types: [privilege_escalation]
tiers:
  - name: contain
    steps:
      - id: drop-insert
        action: remove_grant
        params:
          resource: pg-grant:${database}.public.orders
          permissions: [INSERT]
`);
    t = await startTestApp(await openTestStore('postgres'), { CORDON_PLAYBOOK_DIR: dir });
    const inventory = {
      apiVersion: 'cordon/v1', kind: 'Inventory',
      connectors: [{ id: 'pg-grant', type: 'postgres', params: { host: '127.0.0.1', port: 5432, database, user: 'postgres' } }],
      identities: [{ id: 'svc-writer', kind: 'db_role', name: 'writer', provider: 'postgres', connector: 'pg-grant', externalRef: role, environment: 'production' }],
    };
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: inventory })).statusCode, 200);
    await t.context.discovery.discover('pg-grant', { id: 'test', subject: 'test' });
    responder = startResponder(t);
  });
  after(async () => {
    await responder?.stop();
    await t?.close();
    await adminQuery(`drop database if exists ${database} with (force)`);
    await adminQuery(`drop role if exists ${role}`);
    await rm(dir, { recursive: true, force: true });
  });

  test('the named privilege is revoked on the server, proven from its ACL, and the graph keeps the rest', async () => {
    const resource = `pg-grant:${database}.public.orders`;
    const before = await t.context.db.selectFrom('grants').select('permissions').where('identityId', '=', 'svc-writer').where('resourceId', '=', resource).executeTakeFirstOrThrow();
    assert.deepEqual([...before.permissions].sort(), ['INSERT', 'SELECT']);
    const detection = await raiseDetection(t, { type: 'privilege_escalation', severity: 'high', confidence: 'high', identityId: 'svc-writer' });
    const [run] = await settledResponse(t, responder, detection);
    assert.equal(run!.state, 'verified', JSON.stringify(run));
    assert.deepEqual(run!.plan!.changes.map((c) => c.op), ['revoke_privileges']);
    const { Client } = (await import('pg')).default;
    const db = new Client({ host: '127.0.0.1', port: 5432, database, user: 'postgres' });
    await db.connect();
    const ask = async (p: string) => (await db.query('select has_table_privilege($1, $2, $3) as ok', [role, 'public.orders', p])).rows[0].ok as boolean;
    assert.equal(await ask('INSERT'), false);
    assert.equal(await ask('SELECT'), true);
    await db.end();
    const after = await t.context.db.selectFrom('grants').select('permissions').where('identityId', '=', 'svc-writer').where('resourceId', '=', resource).executeTakeFirstOrThrow();
    assert.deepEqual(after.permissions, ['SELECT']);
  });
});
