import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { blastRadius } from '../../src/inventory/blast-radius.js';
import { IdentityGraph } from '../../src/inventory/graph-index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { seedExampleInventory } from '../helpers/seed.js';

for (const kind of STORE_KINDS) {
  describe(`identity graph index on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let graph: IdentityGraph;
    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      graph = new IdentityGraph(store.db);
      await graph.sync();
    });
    after(() => store?.close());

    test('a new edge is walked on the next query', async () => {
      const before = await blastRadius(graph, { type: 'identity', id: 'svc-scim-sync' });
      assert.deepEqual(before.identities, ['svc-scim-sync']);
      await store.db.insertInto('edges').values({ kind: 'trusts', fromType: 'identity', fromId: 'wl-agent-runtime', toType: 'identity', toId: 'svc-scim-sync', attributes: '{}' }).execute();
      const after = await blastRadius(graph, { type: 'identity', id: 'svc-scim-sync' });
      assert.ok(after.identities.includes('wl-agent-runtime'));
    });

    test('a deleted edge, a revoked session and a rotated credential leave the walk', async () => {
      await store.db.insertInto('sessions').values({ id: 'gi-s1', identityId: 'svc-scim-sync', source: 'test', status: 'active', issuedAt: new Date(), attributes: '{}' }).execute();
      assert.ok((await blastRadius(graph, { type: 'identity', id: 'svc-scim-sync' })).sessions.includes('gi-s1'));
      await store.db.deleteFrom('edges').where('kind', '=', 'trusts').where('toId', '=', 'svc-scim-sync').execute();
      await store.db.updateTable('sessions').set({ status: 'revoked' }).where('id', '=', 'gi-s1').execute();
      await store.db.updateTable('credentials').set({ status: 'rotated' }).where('identityId', '=', 'svc-scim-sync').execute();
      const radius = await blastRadius(graph, { type: 'identity', id: 'svc-scim-sync' });
      assert.deepEqual(radius.nodes.map((n) => n.id), ['svc-scim-sync']);
    });

    test('an identity deleted from the store is no longer found', async () => {
      await store.db.insertInto('identities').values({ id: 'gi-temp', kind: 'bot', name: 'temp', provider: 'generic', environment: 'test', tags: [], attributes: '{}' }).execute();
      assert.equal((await blastRadius(graph, { type: 'identity', id: 'gi-temp' })).nodes.length, 1);
      await store.db.deleteFrom('identities').where('id', '=', 'gi-temp').execute();
      await assert.rejects(blastRadius(graph, { type: 'identity', id: 'gi-temp' }), { code: 'ERR_IDENTITY_NOT_FOUND' });
    });
  });
}

describe('identity graph index across processes on PostgreSQL', { skip: await storeSkip('postgres') }, () => {
  let store: TestStore;
  let other: Store;
  let graph: IdentityGraph;
  before(async () => {
    store = await openTestStore('postgres');
    await seedExampleInventory(store.db);
    other = await openStore({ databaseUrl: store.url!, migrate: false });
    graph = new IdentityGraph(store.db);
    await graph.sync();
  });
  after(async () => {
    await other?.close();
    await store?.close();
  });

  test('a change committed by another process is seen by the next walk', async () => {
    await other.db.insertInto('edges').values({ kind: 'delegates_to', fromType: 'identity', fromId: 'svc-scim-sync', toType: 'identity', toId: 'bot-human-shared', attributes: '{}' }).execute();
    const radius = await blastRadius(graph, { type: 'identity', id: 'svc-scim-sync' });
    assert.ok(radius.identities.includes('bot-human-shared'));
  });

  test('a transaction that commits after a younger one is still seen', async () => {
    const older = new pg.Client({ connectionString: store.url });
    await older.connect();
    try {
      // The older transaction takes its id first but commits last.
      await older.query('begin');
      await older.query(`insert into edges (kind, from_type, from_id, to_type, to_id) values ('trusts', 'identity', 'wl-late', 'identity', 'svc-siem-forwarder')`);
      await older.query(`insert into identities (id, kind, name, provider, environment) values ('wl-late', 'workload', 'late', 'generic', 'prod')`);
      await other.db.insertInto('edges').values({ kind: 'trusts', fromType: 'identity', fromId: 'wl-agent-runtime', toType: 'identity', toId: 'svc-siem-forwarder', attributes: '{}' }).execute();

      const between = await blastRadius(graph, { type: 'identity', id: 'svc-siem-forwarder' });
      assert.ok(between.identities.includes('wl-agent-runtime'), 'the younger commit is visible');
      assert.ok(!between.identities.includes('wl-late'), 'the uncommitted one is not');

      await older.query('commit');
      const later = await blastRadius(graph, { type: 'identity', id: 'svc-siem-forwarder' });
      assert.ok(later.identities.includes('wl-late'), 'the older transaction, committed last, is seen');
    } finally {
      await older.end();
    }
  });
});
