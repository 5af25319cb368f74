import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { BrokerClient, BrokerError } from '../../src/sdk/broker-client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { trustIssuer } from '../helpers/broker.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

/** The SDK against a listening Cordon, over real HTTP. */
describe('broker SDK', () => {
  let store: TestStore;
  let t: TestApp;
  let url: string;
  let runtime: WorkloadIssuer;
  let clock = Date.now();
  const client = (agent: string) => new BrokerClient({
    baseUrl: url, apiToken: t.tokens.workload, workloadToken: () => runtime.sign({ sub: agent, aud: 'https://cordon.test' }), now: () => clock,
  });

  before(async () => {
    store = await openTestStore('pglite');
    await seedExampleInventory(store.db);
    t = await startTestApp(store);
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    runtime = await startWorkloadIssuer('EdDSA');
    const agent = (id: string) => ({ claims: { sub: id }, identity: id, scopes: ['ledger:read', 'refunds:create'], audiences: ['api:ledger', 'api:refunds'] });
    await trustIssuer(t, { id: 'rt', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: ['https://cordon.test'], bindings: [agent('agent-support'), agent('agent-refunds')] });
  });
  after(async () => {
    await t?.close();
    await runtime?.close();
  });

  test('a workload exchanges its token and gets the same Cordon token until it nears expiry', async () => {
    const sdk = client('agent-support');
    const first = await sdk.token({ audience: 'api:ledger', scope: 'ledger:read' });
    assert.equal(decodeJwt(first).sub, 'agent-support');
    assert.equal((await sdk.introspect(first)).active, true);
    assert.equal(await sdk.token({ audience: 'api:ledger', scope: 'ledger:read' }), first);
    clock += 269_000;
    assert.equal(await sdk.token({ audience: 'api:ledger', scope: 'ledger:read' }), first, 'more than 30 s left');
    clock += 2_000;
    const refreshed = await sdk.token({ audience: 'api:ledger', scope: 'ledger:read' });
    assert.notEqual(refreshed, first);
    assert.notEqual(decodeJwt(refreshed).jti, decodeJwt(first).jti);
  });

  test('concurrent asks for the same token make one exchange', async () => {
    const sdk = client('agent-support');
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => sdk.token({ audience: 'api:refunds' })));
    assert.equal(a, b);
    assert.equal(b, c);
  });

  test('tokens asked for during a task are bound to it, and ending the task ends them', async () => {
    const sdk = client('agent-support');
    const task = await sdk.startTask({ purpose: 'refund ticket 4711', ttlSeconds: 120 });
    const token = await sdk.token({ audience: 'api:refunds', scope: 'refunds:create' });
    assert.equal(decodeJwt(token).task_id, task.id);
    const ended = await sdk.endTask('done');
    assert.deepEqual(ended.revokedTokens, [decodeJwt(token).jti]);
    assert.deepEqual(await sdk.introspect(token), { active: false });
    const after = await sdk.token({ audience: 'api:refunds', scope: 'refunds:create' });
    assert.equal(decodeJwt(after).task_id, undefined);
  });

  test('an agent acts for another with the token it was handed', async () => {
    const support = await client('agent-support').token({ audience: 'api:refunds', scope: 'refunds:create' });
    const delegated = await client('agent-refunds').delegate(support, { scope: 'refunds:create' });
    const claims = decodeJwt(delegated);
    assert.equal(claims.sub, 'agent-support');
    assert.deepEqual(claims.act, { sub: 'agent-refunds' });
  });

  test('a refusal surfaces as a BrokerError with the RFC error code', async () => {
    await assert.rejects(client('agent-support').token({ audience: 'api:payroll' }), (error: unknown) => {
      assert.ok(error instanceof BrokerError);
      assert.equal(error.status, 400);
      assert.equal(error.error, 'invalid_target');
      return true;
    });
  });

  test('revoking through the SDK drops the cached token', async () => {
    const sdk = client('agent-refunds');
    const token = await sdk.token({ audience: 'api:ledger' });
    await sdk.revoke(token);
    assert.deepEqual(await sdk.introspect(token), { active: false });
    assert.notEqual(await sdk.token({ audience: 'api:ledger' }), token);
  });
});
