import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { detectionsOf, ingestRecords, nativeEvent, startSeededApp } from '../helpers/events.js';
import { STORE_KINDS, storeSkip } from '../helpers/store.js';
import { cloudtrailAssumeRole, gitleaksReport } from '../ingest/fixtures.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The most recent instant on the given UTC weekday (0 = Sunday) at the given UTC hour, at least a day ago. */
function lastWeekday(day: number, hour: number): Date {
  const d = new Date(Date.now() - DAY);
  d.setUTCHours(hour, 0, 0, 0);
  while (d.getUTCDay() !== day) d.setUTCDate(d.getUTCDate() - 1);
  return d;
}

/** `count` events of one identity from one source to one target, minutes apart, ending `endMinutesAgo`. */
function history(identityId: string, count: number, fields: Record<string, unknown>, endMinutesAgo = 60): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => nativeEvent({ identity: { id: identityId }, minutesAgo: endMinutesAgo + (count - i), ...fields }));
}

async function addSession(t: TestApp, fields: { identityId: string; jti: string; status?: string; expiresAt?: Date; parent?: string }): Promise<void> {
  await t.context.db.insertInto('sessions').values({
    id: `s-${fields.jti}`, identityId: fields.identityId, jti: fields.jti, source: 'test', status: fields.status ?? 'active',
    issuedAt: new Date(Date.now() - DAY), expiresAt: fields.expiresAt ?? null, parentSessionId: fields.parent ? `s-${fields.parent}` : null, attributes: '{}',
  }).execute();
}

for (const kind of STORE_KINDS) {
  describe(`built-in detectors on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startSeededApp(kind);
    });
    after(() => t?.close());
    const fired = async (type: string, identityId: string | null) => (await detectionsOf(t, type)).filter((d) => d.identityId === identityId);

    test('secret_exposure fires on a leaked value of a known credential', async () => {
      await ingestRecords(t, gitleaksReport('sk-proj-demoCordonLLMkey0123456789abcdef'));
      assert.equal((await fired('secret_exposure', 'key-openai'))[0]?.confidence, 'confirmed');
    });

    test('secret_exposure does not fire on ordinary activity of the same identity', async () => {
      await ingestRecords(t, [nativeEvent({ identity: { id: 'key-pagerduty-events' }, target: 'api:pagerduty' })]);
      assert.deepEqual(await fired('secret_exposure', 'key-pagerduty-events'), []);
    });

    test('use_after_revocation fires when a rotated access key signs a call, or a revoked jti is presented', async () => {
      await t.context.db.updateTable('credentials').set({ status: 'rotated' }).where('externalRef', '=', 'AKIADEMOCORDON000002').execute();
      const call = cloudtrailAssumeRole();
      await ingestRecords(t, [{ ...call, eventID: randomUUID(), userIdentity: { ...call.userIdentity, arn: 'arn:aws:iam::111122223333:user/db-backup', accessKeyId: 'AKIADEMOCORDON000002' } }]);
      assert.equal((await fired('use_after_revocation', 'svc-backup')).length, 1);
      await addSession(t, { identityId: 'svc-scim-sync', jti: 'jti-revoked-1', status: 'revoked' });
      await ingestRecords(t, [nativeEvent({ type: 'token.used', identity: { jti: 'jti-revoked-1' }, outcome: 'failure' })]);
      const replay = await fired('use_after_revocation', 'svc-scim-sync');
      assert.equal(replay.length, 1);
      assert.equal(replay[0]!.severity, 'medium');
    });

    test('use_after_revocation does not fire for an active credential', async () => {
      await ingestRecords(t, [{ ...cloudtrailAssumeRole(), eventID: randomUUID() }]);
      assert.deepEqual(await fired('use_after_revocation', 'svc-airflow'), []);
    });

    test('concurrent_sources fires when one token is used from two networks within minutes', async () => {
      await ingestRecords(t, [
        nativeEvent({ type: 'token.used', identity: { id: 'svc-siem-forwarder', jti: 'jti-conc-1' }, asn: 64500, sourceIp: '192.0.2.7', minutesAgo: 3 }),
        nativeEvent({ type: 'token.used', identity: { id: 'svc-siem-forwarder', jti: 'jti-conc-1' }, asn: 64999, sourceIp: '198.51.100.9', minutesAgo: 2 }),
      ]);
      const found = await fired('concurrent_sources', 'svc-siem-forwarder');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.confidence, 'high');
    });

    test('concurrent_sources does not fire for one network, nor for two networks far apart in time', async () => {
      await ingestRecords(t, [
        nativeEvent({ type: 'token.used', identity: { id: 'bot-oncall-pager', jti: 'jti-conc-2' }, sourceIp: '192.0.2.7', minutesAgo: 30 }),
        nativeEvent({ type: 'token.used', identity: { id: 'bot-oncall-pager', jti: 'jti-conc-2' }, sourceIp: '192.0.2.8', minutesAgo: 29 }),
        nativeEvent({ type: 'token.used', identity: { id: 'bot-oncall-pager', jti: 'jti-conc-3' }, sourceIp: '192.0.2.7', minutesAgo: 30 }),
        nativeEvent({ type: 'token.used', identity: { id: 'bot-oncall-pager', jti: 'jti-conc-3' }, sourceIp: '203.0.113.7', minutesAgo: 15 }),
      ]);
      assert.deepEqual(await fired('concurrent_sources', 'bot-oncall-pager'), []);
    });

    test('new_source fires when an established identity acts from an unseen ASN and country', async () => {
      await ingestRecords(t, history('agent-data-analyst', 25, { asn: 64510, geo: 'GB', sourceIp: '192.0.2.20', target: 'pg:analytics' }));
      await ingestRecords(t, [nativeEvent({ identity: { id: 'agent-data-analyst' }, asn: 65001, geo: 'KP', sourceIp: '203.0.113.66', target: 'pg:analytics' })]);
      const found = await fired('new_source', 'agent-data-analyst');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.confidence, 'high');
    });

    test('new_source does not fire from a known source, nor before the baseline is established', async () => {
      await ingestRecords(t, history('svc-legacy-reports', 25, { asn: 64520, geo: 'FR', target: 'pg:analytics' }));
      await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-legacy-reports' }, asn: 64520, geo: 'FR', target: 'pg:analytics' })]);
      await ingestRecords(t, history('ci-dbt', 5, { asn: 64530, geo: 'FR' }));
      await ingestRecords(t, [nativeEvent({ identity: { id: 'ci-dbt' }, asn: 65002, geo: 'BR' })]);
      assert.deepEqual(await fired('new_source', 'svc-legacy-reports'), []);
      assert.deepEqual(await fired('new_source', 'ci-dbt'), []);
    });

    test('while a response watches an identity (raise_monitoring), a new source is reported without a full baseline', async () => {
      const watch = (identityId: string) => t.context.db.insertInto('monitoringWatches').values({
        id: randomUUID(), identityId, level: 'raised', reason: 'test', createdBy: 'test', until: new Date(Date.now() + DAY),
      }).execute();
      await watch('svc-orders-worker');
      await ingestRecords(t, history('svc-orders-worker', 3, { asn: 64540, geo: 'DE', target: 'mq:orders' }));
      await ingestRecords(t, history('svc-session-cache', 3, { asn: 64540, geo: 'DE', target: 'redis:sessions' }));
      await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-orders-worker' }, asn: 65003, geo: 'RU', target: 'mq:orders' })]);
      await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-session-cache' }, asn: 65003, geo: 'RU', target: 'redis:sessions' })]);
      assert.equal((await fired('new_source', 'svc-orders-worker')).length, 1, 'watched: three events are enough');
      assert.deepEqual(await fired('new_source', 'svc-session-cache'), [], 'not watched: the baseline is not established');
    });

    test('unusual_destination fires when an established identity reaches a new service', async () => {
      await ingestRecords(t, history('db-etl-writer', 25, { target: 'pg:analytics', sourceIp: '192.0.2.30' }));
      await ingestRecords(t, [nativeEvent({ identity: { id: 'db-etl-writer' }, target: 'pg:payments', sourceIp: '192.0.2.30' })]);
      assert.equal((await fired('unusual_destination', 'db-etl-writer')).length, 1);
    });

    test('unusual_destination does not fire for a destination in the baseline', async () => {
      await ingestRecords(t, history('db-analytics-reader', 25, { target: 'pg:analytics' }));
      await ingestRecords(t, [nativeEvent({ identity: { id: 'db-analytics-reader' }, target: 'pg:analytics' })]);
      assert.deepEqual(await fired('unusual_destination', 'db-analytics-reader'), []);
    });

    test('off_hours_privileged fires for a privileged action outside the declared schedule', async () => {
      await ingestRecords(t, [nativeEvent({ identity: { id: 'agent-support' }, privileged: true, action: 'refunds:create', target: 'api:refunds', at: lastWeekday(0, 3) })]);
      const found = await fired('off_hours_privileged', 'agent-support');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.severity, 'critical');
    });

    test('off_hours_privileged does not fire inside the schedule, nor for an unprivileged action', async () => {
      await ingestRecords(t, [
        nativeEvent({ identity: { id: 'agent-refunds' }, privileged: true, target: 'api:refunds', at: lastWeekday(3, 12) }),
        nativeEvent({ identity: { id: 'agent-refunds' }, privileged: false, target: 'api:refunds', at: lastWeekday(0, 3) }),
      ]);
      assert.deepEqual(await fired('off_hours_privileged', 'agent-refunds'), []);
    });

    test('issuance_spike fires when an identity is issued far more tokens than usual', async () => {
      const start = Math.floor((Date.now() - 3 * 3600_000) / (5 * MINUTE)) * 5 * MINUTE;
      const usual = Array.from({ length: 10 }, (_, b) => [0, 1].map((i) => nativeEvent({ type: 'token.issued', identity: { id: 'sa-argocd' }, at: new Date(start + b * 5 * MINUTE + i * MINUTE) }))).flat();
      const burst = Array.from({ length: 30 }, (_, i) => nativeEvent({ type: 'token.issued', identity: { id: 'sa-argocd' }, at: new Date(start + 10 * 5 * MINUTE + i * 1000) }));
      await ingestRecords(t, usual);
      await ingestRecords(t, burst);
      assert.equal((await fired('issuance_spike', 'sa-argocd')).length, 1);
    });

    test('issuance_spike does not fire at the usual rate, nor for a burst without a baseline', async () => {
      const start = Math.floor((Date.now() - 3 * 3600_000) / (5 * MINUTE)) * 5 * MINUTE;
      await ingestRecords(t, Array.from({ length: 11 }, (_, b) => [0, 1].map((i) => nativeEvent({ type: 'token.issued', identity: { id: 'sa-external-dns' }, at: new Date(start + b * 5 * MINUTE + i * MINUTE) }))).flat());
      await ingestRecords(t, Array.from({ length: 30 }, (_, i) => nativeEvent({ type: 'token.issued', identity: { id: 'sa-staging-deployer' }, at: new Date(start + i * 1000) })));
      assert.deepEqual(await fired('issuance_spike', 'sa-external-dns'), []);
      assert.deepEqual(await fired('issuance_spike', 'sa-staging-deployer'), []);
    });

    test('ttl_overrun fires when a token is used after it expired', async () => {
      await addSession(t, { identityId: 'svc-vault-auth', jti: 'jti-expired-1', expiresAt: new Date(Date.now() - 2 * 3600_000) });
      await ingestRecords(t, [nativeEvent({ type: 'token.used', identity: { jti: 'jti-expired-1' }, target: 'vault:prod' })]);
      const found = await fired('ttl_overrun', 'svc-vault-auth');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.confidence, 'high');
    });

    test('ttl_overrun does not fire for a token used before it expires', async () => {
      await addSession(t, { identityId: 'bot-release-notes', jti: 'jti-live-1', expiresAt: new Date(Date.now() + 3600_000) });
      await ingestRecords(t, [nativeEvent({ type: 'token.used', identity: { jti: 'jti-live-1' }, tokenExpiresAt: new Date(Date.now() + 3600_000).toISOString() })]);
      assert.deepEqual(await fired('ttl_overrun', 'bot-release-notes'), []);
    });

    test('stale_reactivated fires after a long silence, and for an offboarded identity', async () => {
      await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-orders-staging' }, at: new Date(Date.now() - 200 * DAY) })]);
      await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-orders-staging' }, at: new Date(Date.now() - 10 * DAY) })]);
      assert.equal((await fired('stale_reactivated', 'svc-orders-staging')).length, 1);
      await ingestRecords(t, [nativeEvent({ identity: { id: 'svc-offboarded-contractor' }, target: 'api:zendesk' })]);
      assert.equal((await fired('stale_reactivated', 'svc-offboarded-contractor'))[0]?.severity, 'high');
    });

    test('stale_reactivated does not fire for an identity active weeks apart', async () => {
      await ingestRecords(t, [nativeEvent({ identity: { id: 'db-dev-sandbox' }, at: new Date(Date.now() - 40 * DAY) })]);
      await ingestRecords(t, [nativeEvent({ identity: { id: 'db-dev-sandbox' }, at: new Date(Date.now() - 10 * DAY) })]);
      assert.deepEqual(await fired('stale_reactivated', 'db-dev-sandbox'), []);
    });

    test('suspicious_consent fires when an app is granted high-risk scopes it never had', async () => {
      await ingestRecords(t, [nativeEvent({ type: 'consent.granted', identity: { id: 'agent-code-review' }, scopes: ['repo', 'admin:org', 'read:user'], source: 'github' })]);
      const found = await fired('suspicious_consent', 'agent-code-review');
      assert.equal(found.length, 1);
      assert.deepEqual(found[0]!.attributes.scopes, ['admin:org', 'repo']);
    });

    test('suspicious_consent does not fire for low-risk scopes, nor for high-risk scopes already held', async () => {
      await ingestRecords(t, [nativeEvent({ type: 'consent.granted', identity: { id: 'oauth-slack-app' }, scopes: ['read:user', 'channels:read'] })]);
      await ingestRecords(t, [nativeEvent({ type: 'consent.granted', identity: { id: 'oauth-zendesk-app' }, scopes: ['read:user'] })]);
      assert.deepEqual(await fired('suspicious_consent', 'oauth-slack-app'), []);
      const before = (await fired('suspicious_consent', 'agent-code-review')).length;
      await ingestRecords(t, [nativeEvent({ type: 'consent.granted', identity: { id: 'agent-code-review' }, scopes: ['repo'], minutesAgo: 0 })]);
      assert.equal((await fired('suspicious_consent', 'agent-code-review')).length, before);
    });

    test('lateral_movement fires when derived tokens hop across three services within a minute', async () => {
      await addSession(t, { identityId: 'svc-deployer', jti: 'chain-root' });
      await addSession(t, { identityId: 'svc-deployer', jti: 'chain-hop-1', parent: 'chain-root' });
      await ingestRecords(t, [
        nativeEvent({ type: 'token.used', identity: { jti: 'chain-root' }, target: 'api:deploy', at: new Date(Date.now() - 50_000) }),
        nativeEvent({ type: 'token.used', identity: { jti: 'chain-hop-1' }, target: 'vault:prod', at: new Date(Date.now() - 40_000) }),
        nativeEvent({ type: 'token.used', identity: { id: 'svc-deployer', jti: 'chain-hop-2' }, parentJti: 'chain-hop-1', target: 'k8s:prod-cluster', at: new Date(Date.now() - 30_000) }),
      ]);
      assert.equal((await fired('lateral_movement', 'svc-deployer')).length, 1);
    });

    test('lateral_movement does not fire for one token calling several services, nor for a slow chain', async () => {
      await ingestRecords(t, [
        ...['api:a', 'api:b', 'api:c'].map((target, i) => nativeEvent({ type: 'token.used', identity: { id: 'ci-terraform', jti: 'solo-1' }, target, at: new Date(Date.now() - 50_000 + i * 1000) })),
        nativeEvent({ type: 'token.used', identity: { id: 'ci-terraform', jti: 'slow-root' }, target: 'api:a', at: new Date(Date.now() - 30 * MINUTE) }),
        nativeEvent({ type: 'token.used', identity: { id: 'ci-terraform', jti: 'slow-1' }, parentJti: 'slow-root', target: 'api:b', at: new Date(Date.now() - 20 * MINUTE) }),
        nativeEvent({ type: 'token.used', identity: { id: 'ci-terraform', jti: 'slow-2' }, parentJti: 'slow-1', target: 'api:c', at: new Date(Date.now() - 10 * MINUTE) }),
      ]);
      assert.deepEqual(await fired('lateral_movement', 'ci-terraform'), []);
    });
  });
}
