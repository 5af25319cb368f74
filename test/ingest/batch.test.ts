import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { TestApp } from '../helpers/app.js';
import { nativeEvent, startSeededApp } from '../helpers/events.js';
import { STORE_KINDS, storeSkip } from '../helpers/store.js';
import { cloudtrailAssumeRole, gitleaksReport, k8sAuditSecretRead } from './fixtures.js';

async function counts(t: TestApp) {
  const { rows } = await sql<{ events: string; deadLetters: string; detections: string; audit: string }>`
    select (select count(*) from events) as events, (select count(*) from dead_letters) as dead_letters,
           (select count(*) from detections) as detections, (select count(*) from audit_log) as audit`.execute(t.context.db);
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
}

for (const kind of STORE_KINDS) {
  describe(`a batch mixing good and malformed records on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let t: TestApp;
    const { eventTime: _dropped, ...noTime } = cloudtrailAssumeRole();
    const [leak] = gitleaksReport('mixed-batch-secret-Hq2');
    const { File: _f, ...leakWithoutFile } = leak!;
    const batch = [
      JSON.stringify(nativeEvent({ identity: { id: 'svc-deployer' }, target: 'api:deploy' })),
      JSON.stringify(noTime),
      '{"type": "api.call", "time": ',
      JSON.stringify(cloudtrailAssumeRole()),
      JSON.stringify(leakWithoutFile),
      JSON.stringify(k8sAuditSecretRead()),
      JSON.stringify({ type: 'api.call', time: 'yesterday' }),
      '42',
    ].join('\n');
    let first: { stored: number; rejected: number; errors: { record: number; line?: number; path: string; code: string }[] };
    before(async () => {
      t = await startSeededApp(kind);
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': 'application/x-ndjson' }, payload: batch });
      assert.equal(res.statusCode, 200, res.body);
      first = res.json();
    });
    after(() => t?.close());

    test('the good records are stored', async () => {
      assert.equal(first.stored, 3);
      assert.equal((await counts(t)).events, 3);
    });

    test('each bad record gets an error naming the record and the field', () => {
      const named = first.errors.map((e) => `${e.record}:${e.line}:${e.path}:${e.code}`);
      assert.deepEqual(named, [
        '1:2:/eventTime:ERR_EVENT_INVALID',
        '2:3::ERR_EVENT_UNPARSEABLE',
        '4:5:/File:ERR_EVENT_INVALID',
        '6:7:/time:ERR_EVENT_INVALID',
        '7:8::ERR_EVENT_NOT_OBJECT',
      ]);
      assert.equal(first.rejected, 5);
    });

    test('each bad record is kept as a dead letter with its reason, its secret dropped', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/dead-letters?limit=3', headers: t.auth('viewer') });
      assert.equal(res.statusCode, 200);
      const page = res.json();
      assert.equal(page.items.length, 3);
      const next = await t.app.inject({ method: 'GET', url: `/v1/dead-letters?cursor=${encodeURIComponent(page.nextCursor)}`, headers: t.auth('viewer') });
      const all = [...page.items, ...next.json().items];
      assert.equal(all.length, 5);
      const gitleaks = all.find((d: { format: string | null }) => d.format === 'gitleaks');
      assert.equal(gitleaks.reason, '/File is required');
      assert.match(gitleaks.payload.Secret, /^\[fingerprint:[0-9a-f]{64}\]$/);
      assert.match(gitleaks.payload.Match, /^DB_PASSWORD="\[fingerprint:[0-9a-f]{64}\]"$/, 'a secret in an invalid record is still dropped');
      assert.equal(all.find((d: { code: string }) => d.code === 'ERR_EVENT_UNPARSEABLE').payload, null);
      assert.equal(all.some((d: { sealedRecord?: string }) => 'sealedRecord' in d), false);
    });

    test('sending the same batch again stores nothing new', async () => {
      const before = await counts(t);
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': 'application/x-ndjson' }, payload: batch });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().stored, 0);
      assert.equal(res.json().duplicates, 3);
      assert.equal(res.json().deadLettered, 0);
      assert.deepEqual(await counts(t), before);
    });

    test('a record repeated inside one batch is stored once', async () => {
      const event = nativeEvent({ identity: { id: 'svc-deployer' } });
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: [event, event] });
      assert.equal(res.json().stored, 1);
      assert.equal(res.json().duplicates, 1);
    });

    test('a batch with no good record is a 400 problem naming each record and field', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: [{ type: 'api.call' }, noTime] });
      assert.equal(res.statusCode, 400);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      const problem = res.json();
      assert.equal(problem.code, 'ERR_EVENT_INVALID');
      assert.deepEqual(problem.errors.map((e: { path: string; source: string }) => `${e.source} ${e.path}`), ['record 0 /0/time', 'record 1 /1/eventTime']);
    });

    test('an empty body, an unknown format and a wrong role are refused as problems', async () => {
      const empty = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': 'application/json' }, payload: ' ' });
      assert.equal(empty.statusCode, 400);
      assert.equal(empty.json().code, 'ERR_EVENTS_EMPTY');
      const format = await t.app.inject({ method: 'POST', url: '/v1/events?format=syslog', headers: t.auth('responder'), payload: {} });
      assert.equal(format.statusCode, 400);
      assert.equal(format.json().errors[0].path, '/format');
      const viewer = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('viewer'), payload: {} });
      assert.equal(viewer.statusCode, 403);
    });

    test('text the store cannot hold (NUL, an unpaired surrogate) is refused for that record only', async () => {
      const good = nativeEvent({ identity: { id: 'svc-deployer' } });
      const body = [JSON.stringify(good), '{"type":"api.call","time":"2026-01-01T00:00:00Z","action":"a\\u0000b"}', '{"type":"api.call","time":"2026-01-01T00:00:00Z","target":"\\ud800"}'].join('\n');
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': 'application/x-ndjson' }, payload: body });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().stored, 1);
      assert.deepEqual(res.json().errors.map((e: { record: number; code: string }) => `${e.record}:${e.code}`), ['1:ERR_EVENT_UNSTORABLE_TEXT', '2:ERR_EVENT_UNSTORABLE_TEXT']);
    });

    test('a named format is used for every record, even one another format would claim', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events?format=native', headers: t.auth('responder'), payload: cloudtrailAssumeRole() });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json().errors.map((e: { path: string }) => e.path), ['/0/type']);
    });

    test('each ingest batch that stored something is audited with its counts', async () => {
      const audits = await t.context.db.selectFrom('auditLog').select(['payload']).where('action', '=', 'events.ingested').orderBy('seq').execute();
      assert.deepEqual(audits[0]!.payload, { received: 8, stored: 3, duplicates: 0, rejected: 5, deadLettered: 5, detections: 0, format: 'recognised' });
    });
  });
}
