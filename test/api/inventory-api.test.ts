import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { exportInventory } from '../../src/inventory/export.js';
import { openTestStore } from '../helpers/store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { EXAMPLE_INVENTORY, exampleSecretValues } from '../helpers/examples.js';
import { dumpDatabase } from '../helpers/dump.js';
import { readInventorySources } from '../../src/inventory/source.js';

describe('inventory and identity graph over the API', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(await openTestStore('pglite'));
    for (const source of await readInventorySources([EXAMPLE_INVENTORY])) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: source.document as object });
      assert.equal(res.statusCode, 200, `${source.file}: ${res.body}`);
    }
  });
  after(() => t?.close());

  test('a YAML body imports like JSON', async () => {
    const yaml = readFileSync(`${EXAMPLE_INVENTORY}/00-teams.yaml`, 'utf8');
    const res = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: { ...t.auth('admin'), 'content-type': 'application/yaml' }, payload: yaml });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().teams, { created: 0, updated: 0, unchanged: 8 });
  });

  test('an invalid document gets problem+json naming each field', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/v1/inventory', headers: t.auth('admin'),
      payload: { apiVersion: 'cordon/v1', kind: 'Inventory', identities: [{ id: 'x', kind: 'robot', name: 'x', provider: 'generic', environment: 'p', extra: 1 }] },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    const body = res.json();
    assert.equal(body.code, 'ERR_VALIDATION');
    assert.deepEqual(body.errors.map((e: { path: string }) => e.path).sort(), ['/identities/0/extra', '/identities/0/kind']);
    assert.ok(body.errors.every((e: { in: string }) => e.in === 'body'));
  });

  test('unparseable JSON and YAML are refused as problem+json', async () => {
    const json = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: { ...t.auth('admin'), 'content-type': 'application/json' }, payload: '{"apiVersion": ' });
    assert.equal(json.statusCode, 400);
    assert.match(json.headers['content-type'] as string, /problem\+json/);
    const yaml = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: { ...t.auth('admin'), 'content-type': 'application/yaml' }, payload: 'a: [' });
    assert.equal(yaml.statusCode, 400);
    assert.equal(yaml.json().code, 'ERR_YAML_SYNTAX');
  });

  test('a dangling reference is refused over the API too, naming the field', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/v1/inventory', headers: t.auth('admin'),
      payload: { apiVersion: 'cordon/v1', kind: 'Inventory', identities: [{ id: 'y', kind: 'bot', name: 'y', provider: 'generic', environment: 'p', grants: [{ resource: 'nowhere', permissions: ['r'] }] }] },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'ERR_INVENTORY_INVALID');
    assert.equal(res.json().errors[0].path, '/identities/0/grants/0/resource');
  });

  test('identities are listed with filters and keyset pages', async () => {
    const agents = await t.app.inject({ method: 'GET', url: '/v1/identities?kind=ai_agent', headers: t.auth('viewer') });
    assert.equal(agents.statusCode, 200);
    assert.ok(agents.json().items.length >= 5);
    assert.ok(agents.json().items.every((i: { kind: string }) => i.kind === 'ai_agent'));
    const owned = await t.app.inject({ method: 'GET', url: '/v1/identities?owner=payments&tag=customer-facing', headers: t.auth('viewer') });
    assert.deepEqual(owned.json().items.map((i: { id: string }) => i.id).sort(), ['key-stripe-live', 'svc-payments-api', 'wl-payments-api']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json(): { items: { id: string }[]; nextCursor: string | null } } = await t.app.inject({ method: 'GET', url: `/v1/identities?limit=7${cursor ? `&cursor=${cursor}` : ''}`, headers: t.auth('viewer') });
      seen.push(...page.json().items.map((i: { id: string }) => i.id));
      cursor = page.json().nextCursor;
    } while (cursor);
    assert.equal(seen.length, 53);
    assert.equal(new Set(seen).size, 53);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/identities?kind=robot', headers: t.auth('viewer') });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].path, '/kind');
    assert.equal(bad.json().errors[0].in, 'querystring');
  });

  test('identity detail shows owners, credential age and sharing, grants and edges, and no value', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/identities/svc-payments-api', headers: t.auth('viewer') });
    assert.equal(res.statusCode, 200);
    const detail = res.json();
    assert.deepEqual(detail.owners.map((o: { id: string; role: string }) => `${o.id}:${o.role}`), ['payments:primary', 'platform:backup']);
    const [credential] = detail.credentials;
    assert.ok(credential.ageDays >= 420);
    assert.deepEqual(credential.sharedWith, ['svc-payments-reconciler']);
    assert.equal(credential.value, undefined);
    const kinds = new Set(detail.edges.map((e: { kind: string }) => e.kind));
    for (const k of ['owned_by', 'uses', 'stored_in', 'shares_credential', 'accesses', 'trusts']) assert.ok(kinds.has(k), k);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/identities/none', headers: t.auth('viewer') })).statusCode, 404);
  });

  test('blast radius over the API for an identity and a credential', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/identities/svc-payments-api/blast-radius?depth=3', headers: t.auth('viewer') });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().depth, 3);
    assert.equal(res.json().revocationImpact.safeToRevoke, false);
    const cred = await t.app.inject({ method: 'GET', url: '/v1/credentials/svc-payments-api%2Fdb-password/blast-radius', headers: t.auth('viewer') });
    assert.equal(cred.statusCode, 200);
    assert.ok(cred.json().identities.includes('svc-payments-reconciler'));
    const tooDeep = await t.app.inject({ method: 'GET', url: '/v1/identities/svc-payments-api/blast-radius?depth=99', headers: t.auth('viewer') });
    assert.equal(tooDeep.statusCode, 400);
  });

  test('every import is in the audit chain, which verifies', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/v1/audit?action=inventory.imported', headers: t.auth('viewer') });
    assert.ok(list.json().items.length >= 11);
    assert.ok(list.json().items.every((r: { actorSubject: string }) => r.actorSubject === 'admin-user'));
    const verify = await t.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: t.auth('viewer') });
    assert.equal(verify.json().ok, true);
  });

  test('export over the API round-trips what is stored', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/inventory', headers: t.auth('admin') });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), JSON.parse(JSON.stringify(await exportInventory(t.context.db))));
  });

  test('no plaintext value reached the database or the logs through the API', async () => {
    const dump = await dumpDatabase(t.context.db);
    for (const value of exampleSecretValues()) {
      assert.ok(!dump.includes(value), 'database');
      assert.ok(!t.logs.text.includes(value), 'logs');
    }
    assert.ok(t.logs.lines.length > 10, 'requests were logged');
  });

  test('the OpenAPI document describes the routes and their security', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json', headers: t.auth('viewer') });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/healthz', '/v1/inventory', '/v1/identities', '/v1/identities/{id}', '/v1/identities/{id}/blast-radius', '/v1/audit', '/v1/audit/verify']) {
      assert.ok(doc.paths[path], path);
    }
    assert.deepEqual(doc.paths['/healthz'].get.security, []);
    assert.ok(doc.paths['/v1/identities'].get.parameters.some((p: { name: string }) => p.name === 'kind'));
  });
});
