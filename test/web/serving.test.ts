import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { registerAuth } from '../../src/api/auth.js';
import { registerProblemHandlers } from '../../src/api/problem.js';
import { consoleRoutes } from '../../src/api/routes/console.js';
import type { Api } from '../../src/api/server.js';
import { API_ROLES } from '../../src/domain/roles.js';
import { buildState, DIST } from '../../web/build.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

describe('the console served by the API', () => {
  let t: TestApp;
  let script: string;
  before(async () => {
    assert.equal(await buildState(), 'fresh', 'web/dist must be built from the current sources (npm test builds it)');
    t = await startTestApp(await openTestStore('pglite'));
    script = (await readdir(join(DIST, 'assets'))).find((name) => /^index-[\w-]+\.js$/.test(name))!;
    assert.ok(script, 'the build has an entry script');
  });
  after(() => t?.close());

  test('the root answers the built index.html, revalidated on every load, under a strict CSP', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.equal(res.body, await readFile(join(DIST, 'index.html'), 'utf8'));
    assert.equal(res.headers['cache-control'], 'no-cache');
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(res.headers.etag);
    const again = await t.app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': res.headers.etag as string } });
    assert.equal(again.statusCode, 304);
  });

  test('the page loads nothing from another origin', async () => {
    const html = (await t.app.inject({ method: 'GET', url: '/' })).body;
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(urls.length >= 2);
    for (const url of urls) assert.match(url, /^\/assets\//, url);
  });

  test('client routes answer index.html, so a deep link or a reload works', async () => {
    for (const url of ['/identities', '/identities/svc-payments-api', '/incidents/abc?tab=x', '/audit']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<div id="root">/, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
    }
  });

  test('hashed assets are cached for a year as immutable, and sent compressed to clients that accept it', async () => {
    const plain = await t.app.inject({ method: 'GET', url: `/assets/${script}`, headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['cache-control'], IMMUTABLE);
    assert.match(plain.headers['content-type'] as string, /javascript/);
    assert.equal(plain.body, await readFile(join(DIST, 'assets', script), 'utf8'));
    const br = await t.app.inject({ method: 'GET', url: `/assets/${script}`, headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['cache-control'], IMMUTABLE);
  });

  test('a missing asset is a 404 problem, not the page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/index-missing.js' });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
  });

  test('no file outside assets/ is served through the assets path', async () => {
    for (const url of ['/assets/../build.json', '/assets/%2e%2e/build.json', '/assets/..%2fbuild.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.doesNotMatch(res.body, /"digest"|"dependencies"/, url);
      if (res.statusCode === 200) assert.match(res.body, /<div id="root">/, url);
    }
  });

  test('the API keeps its own answers: unknown API paths stay problem+json 404s', async () => {
    for (const url of ['/v1/nowhere', '/v1', '/oauth2/nowhere', '/.well-known/nowhere']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/, url);
      assert.equal(res.json().code, 'ERR_ROUTE_NOT_FOUND', url);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).json().status, 'ok');
    assert.equal((await t.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 401);
    // Prometheus' /metrics is an API route (a reader's token), never the console's page.
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 401);
    assert.match(metrics.headers['content-type'] as string, /^application\/problem\+json/);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/identities', headers: t.auth('viewer') })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'POST', url: '/', payload: {} })).statusCode, 404);
  });

  test('the console route stays out of the OpenAPI document; /v1/me and /v1/stream are in it', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json', headers: t.auth('viewer') })).json();
    assert.ok(doc.paths['/v1/me']);
    assert.ok(doc.paths['/v1/stream']);
    assert.ok(!Object.keys(doc.paths).some((path) => path === '/*' || path.startsWith('/assets')));
  });

  test('GET /v1/me names the subject, role and token of any role', async () => {
    for (const role of API_ROLES) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: t.auth(role) });
      assert.equal(res.statusCode, 200, role);
      const me = res.json();
      assert.equal(me.role, role);
      assert.equal(me.subject, `${role}-user`);
      assert.match(me.tokenId, /^[0-9a-f-]{36}$/);
    }
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/me' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().code, 'ERR_TOKEN_MISSING');
    const bad = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Bearer cdn_nope' } });
    assert.equal(bad.json().code, 'ERR_TOKEN_INVALID');
  });

  test('without a build, the console answers a 503 problem saying how to build it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cordon-no-console-'));
    const app = Fastify() as unknown as Api;
    registerProblemHandlers(app);
    registerAuth(app, { authenticate: async () => ({ tokenId: 'x', subject: 'x', role: 'admin' }) });
    await app.register(consoleRoutes, { dist: empty });
    try {
      const res = await app.inject({ method: 'GET', url: '/identities' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 'ERR_CONSOLE_NOT_BUILT');
      assert.match(res.json().detail, /npm run build:web/);
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
