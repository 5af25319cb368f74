import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { registerAuth } from '../../src/api/auth.js';
import { API_ROLES } from '../../src/domain/roles.js';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** Health, JWKS, discovery, and the console's static files (`GET /*`: its data comes from the authenticated API). */
const PUBLIC_ROUTES = ['GET /healthz', 'GET /.well-known/jwks.json', 'GET /.well-known/openid-configuration', 'GET /*'];
/** The OAuth endpoints answer client-authentication failures in RFC 6749 §5.2 form instead of problem+json. */
const isOAuth = (url: string) => url.startsWith('/oauth2/');

describe('API authentication and roles', () => {
  let store: TestStore;
  let t: TestApp;
  before(async () => {
    store = await openTestStore('pglite');
    t = await startTestApp(store);
  });
  after(async () => {
    await t?.close();
  });

  const concrete = (url: string) => url.replace(/:(\w+)/g, 'x');

  test('only health, JWKS, discovery and the console\'s static files are public', () => {
    const open = t.app.guardedRoutes.filter((r) => r.public).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(open.sort(), PUBLIC_ROUTES.sort());
  });

  test('every other route answers 401 problem+json without a token', async () => {
    const guarded = t.app.guardedRoutes.filter((r) => !r.public);
    assert.ok(guarded.length >= 10);
    for (const route of guarded) {
      const res = await t.app.inject({ method: route.method as never, url: concrete(route.url), payload: route.method === 'GET' ? undefined : {} });
      assert.equal(res.statusCode, 401, `${route.method} ${route.url}`);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="cordon"');
      if (isOAuth(route.url)) {
        assert.match(res.headers['content-type'] as string, /^application\/json/);
        assert.equal(res.json().error, 'invalid_client');
        continue;
      }
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(res.json().code, 'ERR_TOKEN_MISSING');
    }
  });

  test('every route refuses each role it does not admit with 403 problem+json', async () => {
    let checked = 0;
    for (const route of t.app.guardedRoutes.filter((r) => !r.public)) {
      for (const role of API_ROLES.filter((r) => !route.roles.includes(r))) {
        const res = await t.app.inject({ method: route.method as never, url: concrete(route.url), headers: t.auth(role), payload: route.method === 'GET' ? undefined : {} });
        if (isOAuth(route.url)) {
          assert.equal(res.statusCode, 400, `${role} on ${route.method} ${route.url}`);
          assert.equal(res.json().error, 'unauthorized_client');
          checked++;
          continue;
        }
        assert.equal(res.statusCode, 403, `${role} on ${route.method} ${route.url}`);
        assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
        assert.equal(res.json().code, 'ERR_ROLE_FORBIDDEN');
        checked++;
      }
    }
    assert.ok(checked > 20);
  });

  test('a viewer can read but cannot write', async () => {
    const read = await t.app.inject({ method: 'GET', url: '/v1/identities', headers: t.auth('viewer') });
    assert.equal(read.statusCode, 200);
    const write = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('viewer'), payload: { apiVersion: 'cordon/v1', kind: 'Inventory' } });
    assert.equal(write.statusCode, 403);
    assert.equal(write.json().status, 403);
  });

  test('a workload token cannot read the inventory', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/identities', headers: t.auth('workload') });
    assert.equal(res.statusCode, 403);
  });

  test('an unknown, malformed or revoked token gets 401 with its own code', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/v1/identities', headers: { authorization: 'Bearer cdn_nope' } });
    assert.equal(unknown.json().code, 'ERR_TOKEN_INVALID');
    const malformed = await t.app.inject({ method: 'GET', url: '/v1/identities', headers: { authorization: 'Basic abc' } });
    assert.equal(malformed.json().code, 'ERR_TOKEN_MALFORMED');
    const created = await t.app.inject({ method: 'POST', url: '/v1/tokens', headers: t.auth('admin'), payload: { name: 'temp', subject: 'bob', role: 'viewer' } });
    assert.equal(created.statusCode, 201);
    const { token, info } = created.json();
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/identities', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/v1/tokens/${info.id}`, headers: t.auth('admin') })).statusCode, 200);
    const revoked = await t.app.inject({ method: 'GET', url: '/v1/identities', headers: { authorization: `Bearer ${token}` } });
    assert.equal(revoked.statusCode, 401);
    assert.equal(revoked.json().code, 'ERR_TOKEN_REVOKED');
  });

  test('tokens are stored hashed and listed without their values', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/v1/tokens', headers: t.auth('admin') });
    const body = list.body;
    for (const token of Object.values(t.tokens)) assert.ok(!body.includes(token));
    const rows = await store.db.selectFrom('apiTokens').select('tokenHash').execute();
    for (const token of Object.values(t.tokens)) assert.ok(!rows.some((r) => r.tokenHash === token));
  });

  test('a route registered without roles is refused at start-up', async () => {
    const app = Fastify();
    registerAuth(app, { authenticate: async () => ({ tokenId: 'x', subject: 'x', role: 'admin' }) });
    assert.throws(() => app.get('/v1/forgotten', async () => 'oops'), /declares no roles/);
  });
});
