import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { closedPort } from '../helpers/connectors.js';
import { raiseDetection, settledResponse, startResponder } from '../helpers/respond.js';
import { openTestStore, STORE_KINDS, storeSkip } from '../helpers/store.js';

for (const kind of STORE_KINDS) {
  describe(`a connector that cannot reach its server (store: ${kind})`, { skip: await storeSkip(kind) }, () => {
    let t: TestApp;
    let responder: ReturnType<typeof startResponder>;

    before(async () => {
      t = await startTestApp(await openTestStore(kind), { CORDON_ACTION_BACKOFF_MS: '50' });
      const port = await closedPort();
      const inventory = {
        apiVersion: 'cordon/v1', kind: 'Inventory',
        teams: [{ id: 'payments', name: 'Payments', responsibility: 'app' }],
        connectors: [{ id: 'pg-down', type: 'postgres', params: { host: '127.0.0.1', port, database: 'payments', user: 'postgres', connectTimeoutMs: 500 } }],
        identities: [{
          id: 'svc-unreachable', kind: 'db_role', name: 'payments writer', provider: 'postgres', connector: 'pg-down', externalRef: 'payments_writer',
          environment: 'production', owners: { team: 'payments' }, credentials: [{ name: 'password', type: 'password', value: 'leaked-value-1' }],
        }],
      };
      assert.equal((await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: inventory })).statusCode, 200);
      responder = startResponder(t);
    });
    after(async () => {
      await responder?.stop();
      await t?.close();
    });

    test('retries a bounded number of times, then the run fails, the incident is escalated and nothing is contained', async () => {
      const detection = await raiseDetection(t, { type: 'secret_exposure', severity: 'high', confidence: 'confirmed', identityId: 'svc-unreachable', credentialId: 'svc-unreachable/password' });
      const runs = await settledResponse(t, responder, detection);
      const byStep = Object.fromEntries(runs.map((r) => [r.stepId, r]));
      assert.equal(byStep.rotate!.state, 'failed');
      assert.equal(byStep.rotate!.errorCode, 'ERR_CONNECTOR_UNREACHABLE');
      assert.match(byStep.rotate!.error!, /PostgreSQL at 127\.0\.0\.1:\d+\/payments/);
      assert.equal(byStep.rotate!.attempts, 3, 'three attempts, then no more');
      const retries = await t.context.db.selectFrom('auditLog').select('payload').where('action', '=', 'action.retry_scheduled').execute();
      assert.equal(retries.filter((r) => (r.payload as { runId: string }).runId === byStep.rotate!.id).length, 2);
      // The rest of the containment tier is not attempted; evidence and the owners' task still are.
      assert.deepEqual([byStep['revoke-sessions']!.state, byStep.disable!.state], ['cancelled', 'cancelled']);
      assert.equal(byStep.disable!.errorCode, 'ERR_EARLIER_STEP_FAILED');
      assert.deepEqual([byStep.evidence!.state, byStep['tell-owner']!.state], ['verified', 'verified']);
      const incident = await t.app.inject({ method: 'GET', url: `/v1/incidents/${byStep.rotate!.incidentId}`, headers: t.auth('viewer') });
      assert.equal(incident.statusCode, 200);
      const body = incident.json();
      assert.equal(body.escalated, true);
      assert.deepEqual(body.escalations.map((e: { code: string }) => e.code), ['retries_exhausted']);
      assert.notEqual(body.status, 'contained');
      assert.equal(body.status, 'triage');
      assert.equal(body.containedAt, null);
      assert.ok(body.timeline.some((e: { kind: string }) => e.kind === 'incident.escalated'));
      const credential = await t.context.db.selectFrom('credentials').select('status').where('id', '=', 'svc-unreachable/password').executeTakeFirstOrThrow();
      assert.equal(credential.status, 'active', 'a rotation that did not happen is not recorded');
    });
  });
}
