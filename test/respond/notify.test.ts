import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { raiseDetection, settledResponse, startResponder } from '../helpers/respond.js';
import { openTestStore } from '../helpers/store.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

const PLAYBOOK = `apiVersion: cordon/v1
kind: Playbook
id: tell
title: Tell the owners
match:
  types: [new_source]
tiers:
  - name: tell
    steps:
      - id: tell-owner
        action: notify_owner
        params:
          task: session_review
          message: Review the new source.
        continueOnError: true
      - id: watch
        action: raise_monitoring
`;

describe('notifying owners', () => {
  const key = randomBytes(24).toString('base64url');
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-notify-'));
    await writeFile(join(dir, 'tell.yaml'), PLAYBOOK);
    // The first delivery fails (a 503 from the team's chat bridge): the executor retries it.
    receiver = await startReceiver((index) => (index === 0 ? 503 : 204));
  });
  after(async () => {
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function appWith(env: Record<string, string>): Promise<{ t: TestApp; responder: ReturnType<typeof startResponder> }> {
    const t = await startTestApp(await openTestStore('pglite'), { CORDON_PLAYBOOK_DIR: dir, CORDON_ACTION_BACKOFF_MS: '50', ...env });
    const inventory = {
      apiVersion: 'cordon/v1', kind: 'Inventory',
      teams: [{ id: 'orders', name: 'Orders', responsibility: 'app', channel: receiver.url }],
      identities: [{ id: 'svc-orders', kind: 'service_account', name: 'orders', provider: 'generic', environment: 'production', owners: { team: 'orders' } }],
    };
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: inventory })).statusCode, 200);
    return { t, responder: startResponder(t) };
  }

  test('the owning team gets a task in the incident and a signed webhook, retried until delivered', async () => {
    process.env.CORDON_T_NOTIFY_KEY = key;
    const { t, responder } = await appWith({ CORDON_NOTIFY_SIGNING_SECRET: 'env:CORDON_T_NOTIFY_KEY' });
    try {
      const detection = await raiseDetection(t, { type: 'new_source', severity: 'medium', confidence: 'low', identityId: 'svc-orders' });
      const [tell, watch] = await settledResponse(t, responder, detection);
      assert.equal(tell!.state, 'verified', JSON.stringify(tell));
      assert.equal(tell!.attempts, 2);
      assert.deepEqual(tell!.verification!.checks.map((c) => [c.name, c.passed]), [['task_routed', true], ['webhook_delivered', true]]);
      assert.equal(watch!.state, 'verified');
      assert.equal(receiver.received.length, 2);
      const [first, second] = receiver.received;
      assert.equal(first!.headers['webhook-id'], second!.headers['webhook-id'], 'a retry is the same delivery');
      const event = new Webhook(new TextEncoder().encode(key), { format: 'raw' }).verify(second!.body, second!.headers) as { type: string; data: Record<string, unknown> };
      assert.equal(event.type, 'cordon.owner.notified');
      assert.equal(event.data.team, 'orders');
      assert.equal(event.data.incidentId, tell!.incidentId);
      assert.equal(event.data.message, 'Review the new source.');
      const tasks = await t.context.db.selectFrom('incidentTasks').select(['team', 'kind', 'status', 'incidentId']).where('kind', '<>', 'recovery').execute();
      assert.deepEqual(tasks, [{ team: 'orders', kind: 'session_review', status: 'open', incidentId: tell!.incidentId }]);
    } finally {
      await responder.stop();
      await t.close();
      delete process.env.CORDON_T_NOTIFY_KEY;
    }
  });

  test('without a signing key a webhook channel is not used unsigned: the step fails at once and the next one runs', async () => {
    const { t, responder } = await appWith({});
    try {
      const before = receiver.received.length;
      const detection = await raiseDetection(t, { type: 'new_source', severity: 'medium', confidence: 'low', identityId: 'svc-orders' });
      const [tell, watch] = await settledResponse(t, responder, detection);
      assert.equal(tell!.state, 'failed');
      assert.equal(tell!.errorCode, 'ERR_NOTIFY_UNSIGNED');
      assert.equal(tell!.attempts, 1, 'not retried: it cannot get better');
      assert.equal(watch!.state, 'verified', 'continueOnError lets the next step run');
      assert.equal(receiver.received.length, before);
      const incident = await t.context.db.selectFrom('incidents').select(['escalated', 'escalations']).where('id', '=', tell!.incidentId).executeTakeFirstOrThrow();
      assert.equal(incident.escalated, true);
      assert.deepEqual(incident.escalations.map((e) => e.code), ['action_failed']);
    } finally {
      await responder.stop();
      await t.close();
    }
  });
});
