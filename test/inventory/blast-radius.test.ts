import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NotFoundError } from '../../src/domain/errors.js';
import { blastRadius } from '../../src/inventory/blast-radius.js';
import { IdentityGraph } from '../../src/inventory/graph-index.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { seedExampleInventory } from '../helpers/seed.js';

for (const kind of STORE_KINDS) {
  describe(`blast radius on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let graph: IdentityGraph;
    before(async () => {
      store = await openTestStore(kind);
      graph = new IdentityGraph(store.db);
      await seedExampleInventory(store.db);
      // A live session with a token derived from it, and an expired one that must not count.
      await store.db.insertInto('sessions').values([
        { id: 's-root', identityId: 'svc-payments-api', source: 'test', status: 'active', issuedAt: new Date(), attributes: '{}' },
        { id: 's-child', identityId: 'svc-deployer', parentSessionId: 's-root', jti: 'jti-child', source: 'test', status: 'active', issuedAt: new Date(), attributes: '{}' },
        { id: 's-expired', identityId: 'svc-payments-api', source: 'test', status: 'active', issuedAt: new Date(Date.now() - 7200_000), expiresAt: new Date(Date.now() - 3600_000), attributes: '{}' },
      ]).execute();
    });
    after(() => store?.close());

    test('a leaked shared password reaches the identity sharing it, its workload and their resources', async () => {
      const radius = await blastRadius(graph, { type: 'identity', id: 'svc-payments-api' });
      for (const id of ['svc-payments-api', 'svc-payments-reconciler', 'wl-payments-api', 'wl-payments-batch']) {
        assert.ok(radius.identities.includes(id), `${id} in ${radius.identities}`);
      }
      const reconciler = radius.nodes.find((n) => n.id === 'svc-payments-reconciler')!;
      assert.equal(reconciler.via, 'shares_credential');
      assert.deepEqual(reconciler.from, { type: 'credential', id: 'svc-payments-api/db-password' });
      assert.ok(radius.credentials.includes('svc-payments-reconciler/db-password'));
      assert.deepEqual(radius.resources.map((r) => r.id).sort(), ['pg:payments', 's3:invoices']);
      assert.deepEqual(radius.resources.find((r) => r.id === 'pg:payments')!.permissions, ['INSERT', 'SELECT', 'UPDATE']);
    });

    test('live sessions and tokens derived from them are in the radius, expired ones are not', async () => {
      const radius = await blastRadius(graph, { type: 'identity', id: 'svc-payments-api' });
      assert.ok(radius.sessions.includes('s-root'));
      assert.ok(radius.sessions.includes('s-child'));
      assert.equal(radius.nodes.find((n) => n.id === 's-child')!.via, 'derived_from');
      assert.ok(!radius.sessions.includes('s-expired'));
    });

    test('revoking a customer-facing dependency is not safe, and the consumers are named', async () => {
      const radius = await blastRadius(graph, { type: 'identity', id: 'svc-payments-api' });
      const consumers = radius.revocationImpact.consumers.map((c) => `${c.identityId}:${c.relation}`).sort();
      assert.deepEqual(consumers, ['svc-payments-reconciler:shares_credential', 'wl-payments-api:trusts']);
      assert.equal(radius.revocationImpact.safeToRevoke, false);
      assert.equal(radius.revocationImpact.highestCriticality, 'critical');
    });

    test('an identity nobody depends on is safe to revoke', async () => {
      const radius = await blastRadius(graph, { type: 'identity', id: 'svc-scim-sync' });
      assert.deepEqual(radius.revocationImpact, { consumers: [], safeToRevoke: true, highestCriticality: null });
    });

    test('a delegation chain is followed hop by hop, and depth bounds it', async () => {
      const full = await blastRadius(graph, { type: 'identity', id: 'agent-support' });
      const depth = (id: string) => full.nodes.find((n) => n.id === id)?.depth;
      assert.equal(depth('agent-refunds'), 1);
      assert.equal(depth('agent-ledger-reader'), 2);
      assert.ok(full.resources.some((r) => r.id === 'api:ledger'));
      const shallow = await blastRadius(graph, { type: 'identity', id: 'agent-support' }, { depth: 1 });
      assert.ok(shallow.identities.includes('agent-refunds'));
      assert.ok(!shallow.identities.includes('agent-ledger-reader'));
    });

    test('starting from a credential reaches every identity holding its value', async () => {
      const radius = await blastRadius(graph, { type: 'credential', id: 'bot-oncall-pager/pager-key' });
      assert.deepEqual(radius.identities.sort(), ['bot-oncall-pager', 'key-pagerduty-events']);
      assert.deepEqual(radius.revocationImpact.consumers.map((c) => c.identityId), ['key-pagerduty-events']);
    });

    test('the node limit truncates the answer and says so', async () => {
      const radius = await blastRadius(graph, { type: 'identity', id: 'svc-payments-api' }, { limit: 3 });
      assert.equal(radius.nodes.length, 3);
      assert.equal(radius.truncated, true);
    });

    test('an unknown start is not found', async () => {
      await assert.rejects(blastRadius(graph, { type: 'identity', id: 'nope' }), NotFoundError);
    });
  });
}
