import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { dumpDatabase } from '../helpers/dump.js';
import { detectionsOf, startSeededApp } from '../helpers/events.js';
import { exampleSecretValues } from '../helpers/examples.js';
import type { TestApp } from '../helpers/app.js';
import { STORE_KINDS, storeSkip } from '../helpers/store.js';
import { cloudtrailAssumeRole, githubSecretScanningCreated, gitleaksReport, PAYMENTS_PASSWORD, trufflehogLine } from './fixtures.js';

for (const kind of STORE_KINDS) {
  describe(`leaked secrets of known credentials on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startSeededApp(kind);
    });
    after(() => t?.close());

    test('a gitleaks report with a credential\'s plaintext is a confirmed secret_exposure on its identity', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: gitleaksReport(PAYMENTS_PASSWORD) });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().stored, 1);
      const found = await detectionsOf(t, 'secret_exposure');
      const mine = found.find((d) => d.identityId === 'svc-payments-api');
      assert.ok(mine, JSON.stringify(found));
      assert.equal(mine.confidence, 'confirmed');
      assert.equal(mine.severity, 'critical');
      assert.deepEqual(mine.evidenceEventIds, [res.json().events[0].id]);
    });

    test('a trufflehog line with the plaintext confirms the exposure once more, as the same detection', async () => {
      const before = (await detectionsOf(t, 'secret_exposure')).length;
      const res = await t.app.inject({
        method: 'POST', url: '/v1/events?format=trufflehog', headers: { ...t.auth('responder'), 'content-type': 'application/x-ndjson' },
        payload: `${JSON.stringify(trufflehogLine(PAYMENTS_PASSWORD))}\n`,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().stored, 1);
      const event = await t.context.db.selectFrom('events').selectAll().where('id', '=', res.json().events[0].id).executeTakeFirstOrThrow();
      assert.ok(event.identityIds.includes('svc-payments-api'));
      assert.equal((await detectionsOf(t, 'secret_exposure')).length, before, 'one detection per credential and fingerprint');
    });

    test('a trufflehog line alone confirms the exposure on the identity', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: trufflehogLine('sk_live_demo51HxQ2bL7cordonDemoKey0001') });
      assert.equal(res.statusCode, 200, res.body);
      const found = (await detectionsOf(t, 'secret_exposure')).filter((d) => d.identityId === 'key-stripe-live');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.confidence, 'confirmed');
    });

    test('a GitHub alert carrying the secret is confirmed; an unknown secret is an unattributed exposure', async () => {
      await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: githubSecretScanningCreated('ghp_demoCordonRenovatePAT0123456789abcd') });
      assert.equal((await detectionsOf(t, 'secret_exposure')).find((d) => d.identityId === 'ci-renovate')?.confidence, 'confirmed');
      const [leak] = gitleaksReport('not-a-known-secret-Zq8w2');
      const elsewhere = { ...leak!, File: 'scripts/seed.sh', StartLine: 3, Fingerprint: `${leak!.Commit}:scripts/seed.sh:generic-password:3` };
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: [elsewhere] });
      assert.equal(res.statusCode, 200);
      const unattributed = (await detectionsOf(t, 'secret_exposure')).filter((d) => d.identityId === null);
      assert.equal(unattributed.length, 1, 'the unknown value; the GitHub alert that carried a known one is attributed');
      assert.equal(unattributed[0]!.confidence, 'medium');
    });

    test('a GitHub alert without the secret is an unattributed exposure of that alert', async () => {
      const alert = githubSecretScanningCreated();
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: t.auth('responder'), payload: { ...alert, alert: { ...alert.alert, number: 77 } } });
      assert.equal(res.json().detections, 1, res.body);
      const detection = await t.context.db.selectFrom('detections').select(['identityId', 'evidenceEventIds']).where('identityId', 'is', null).orderBy('detectedAt', 'desc').executeTakeFirstOrThrow();
      assert.deepEqual(detection.evidenceEventIds, [res.json().events[0].id]);
    });

    test('a secret-named field is fingerprinted in any format, even hidden by a repeated key', async () => {
      const hidden = JSON.stringify({ ...cloudtrailAssumeRole(), eventID: 'dup-key-1' }).replace('"requestParameters":{', '"requestParameters":{"password":"dup-key-secret-Wq3","password":null,');
      const named = JSON.stringify({ ...cloudtrailAssumeRole(), eventID: 'dup-key-2' }).replace('"requestParameters":{', '"requestParameters":{"clientSecret":"client-secret-Ek9",');
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': 'application/x-ndjson' }, payload: `${hidden}\n${named}` });
      assert.equal(res.json().stored, 2, res.body);
    });

    test('a secret-named field spelled with an escape and hidden by a repeated key is not stored', async () => {
      const escaped = JSON.stringify({ ...cloudtrailAssumeRole(), eventID: 'dup-key-3' })
        .replace('"requestParameters":{', '"requestParameters":{"pass\\u0077ord":"escaped-key-secret-Pz4","pass\\u0077ord":null,');
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': 'application/x-ndjson' }, payload: escaped });
      assert.equal(res.json().stored, 1, res.body);
      const { raw } = await t.context.db.selectFrom('events').select(sql<string>`raw::text`.as('raw')).where('id', '=', res.json().events[0].id).executeTakeFirstOrThrow();
      assert.equal((JSON.parse(raw) as { requestParameters: { password: unknown } }).requestParameters.password, null, 'the record as parsed');
      assert.ok(!raw.includes('escaped-key-secret-Pz4'), 'not the text as sent');
    });

    test('no plaintext secret is in the database or the logs afterwards', async () => {
      const dump = await dumpDatabase(t.context.db);
      const logs = t.logs.text;
      for (const value of [...exampleSecretValues(), 'not-a-known-secret-Zq8w2', 'dup-key-secret-Wq3', 'client-secret-Ek9', 'escaped-key-secret-Pz4']) {
        assert.ok(!dump.includes(value), `database holds ${value}`);
        assert.ok(!logs.includes(value), `logs hold ${value}`);
      }
      assert.match(dump, /\[fingerprint:[0-9a-f]{64}\]/);
    });
  });
}
