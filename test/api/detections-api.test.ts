import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { ingestRecords, nativeEvent, startSeededApp } from '../helpers/events.js';
import { gitleaksReport, PAYMENTS_PASSWORD } from '../ingest/fixtures.js';

describe('detections and events over the API', () => {
  let t: TestApp;
  let evidenceId: string;
  before(async () => {
    t = await startSeededApp('pglite');
    const leak = await ingestRecords(t, gitleaksReport(PAYMENTS_PASSWORD));
    evidenceId = leak.events[0]!.id;
    await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-offboarded-contractor' }, target: 'api:zendesk' })]);
  });
  after(() => t?.close());

  test('detections are listed newest first, filtered by type, severity, confidence and identity', async () => {
    const all = (await t.app.inject({ method: 'GET', url: '/v1/detections', headers: t.auth('viewer') })).json();
    assert.ok(all.items.length >= 3);
    const times = all.items.map((d: { detectedAt: string }) => d.detectedAt);
    assert.deepEqual(times, [...times].sort().reverse());
    const confirmed = (await t.app.inject({ method: 'GET', url: '/v1/detections?type=secret_exposure&confidence=confirmed&severity=critical', headers: t.auth('viewer') })).json();
    assert.deepEqual(confirmed.items.map((d: { identityId: string }) => d.identityId), ['svc-payments-api']);
    const mine = (await t.app.inject({ method: 'GET', url: '/v1/detections?identity=svc-offboarded-contractor', headers: t.auth('viewer') })).json();
    assert.ok(mine.items.length >= 1);
    assert.ok(mine.items.every((d: { identityId: string }) => d.identityId === 'svc-offboarded-contractor'));
  });

  test('pages follow the cursor without repeating or skipping', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (await t.app.inject({ method: 'GET', url: `/v1/detections?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers: t.auth('viewer') })).json();
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    const all = (await t.app.inject({ method: 'GET', url: '/v1/detections', headers: t.auth('viewer') })).json();
    assert.deepEqual(seen, all.items.map((d: { id: string }) => d.id));
  });

  test('a detection shows its evidence events, their secrets as fingerprints', async () => {
    const [detection] = (await t.app.inject({ method: 'GET', url: '/v1/detections?identity=svc-payments-api', headers: t.auth('viewer') })).json().items;
    const res = await t.app.inject({ method: 'GET', url: `/v1/detections/${detection.id}`, headers: t.auth('viewer') });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().evidence.map((e: { id: string }) => e.id), [evidenceId]);
    assert.match(res.json().evidence[0].raw.Secret, /^\[fingerprint:[0-9a-f]{64}\]$/);
    assert.ok(!res.body.includes(PAYMENTS_PASSWORD));
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/detections/none', headers: t.auth('viewer') })).statusCode, 404);
  });

  test('events are listed by identity and read one by one; workloads may not read them', async () => {
    const list = (await t.app.inject({ method: 'GET', url: '/v1/events?identity=svc-payments-api', headers: t.auth('viewer') })).json();
    assert.deepEqual(list.items.map((e: { id: string }) => e.id), [evidenceId]);
    const one = await t.app.inject({ method: 'GET', url: `/v1/events/${evidenceId}`, headers: t.auth('viewer') });
    assert.equal(one.json().format, 'gitleaks');
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/detections', headers: t.auth('workload') })).statusCode, 403);
  });

  test('bad filters are refused naming the query field', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/detections?severity=dire', headers: t.auth('viewer') });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().errors.map((e: { path: string; in: string }) => `${e.in} ${e.path}`), ['querystring /severity']);
  });

  test('the OpenAPI document describes the ingestion and detection routes', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json', headers: t.auth('viewer') })).json();
    for (const path of ['/v1/events', '/v1/events/{id}', '/v1/dead-letters', '/v1/detections', '/v1/detections/{id}', '/v1/rules']) assert.ok(doc.paths[path], path);
    assert.ok(doc.paths['/v1/events'].post.parameters.some((p: { name: string }) => p.name === 'format'));
  });

  test('the loaded rules are listed', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/rules', headers: t.auth('viewer') });
    assert.ok(res.json().items.some((r: { id: string }) => r.id === 'cloudtrail-logging-tampered'));
  });
});
