import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { appendAudit, verifyAudit } from '../../src/audit/service.js';
import { CordonError } from '../../src/domain/errors.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';

const actor = { id: 'token:t1', subject: 'alice' };

for (const kind of STORE_KINDS) {
  describe(`audit chain on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(() => store?.close());

    async function appendFive() {
      await sql`truncate audit_log`.execute(store.db);
      for (let i = 1; i <= 5; i++) {
        await store.db.transaction().execute((tx) => appendAudit(tx, actor, { action: 'test.step', subject: `thing:${i}`, payload: { i, nested: { b: 2, a: [1, 'x'] } } }));
      }
    }

    test('an untouched chain verifies', async () => {
      await appendFive();
      const result = await verifyAudit(store.db);
      assert.equal(result.ok, true);
      assert.equal(result.checked, 5);
      assert.equal(result.headSeq, 5);
    });

    test('concurrent appends keep one unbroken chain', async () => {
      await appendFive();
      await Promise.all(Array.from({ length: 20 }, (_, i) =>
        store.db.transaction().execute((tx) => appendAudit(tx, actor, { action: 'test.concurrent', subject: `c:${i}`, payload: { i } }))));
      const result = await verifyAudit(store.db, 7);
      assert.deepEqual({ ok: result.ok, checked: result.checked }, { ok: true, checked: 25 });
    });

    test('an audit record rolls back with the change it describes', async () => {
      await appendFive();
      await assert.rejects(store.db.transaction().execute(async (tx) => {
        await appendAudit(tx, actor, { action: 'test.rollback', subject: 'x', payload: {} });
        throw new Error('the change failed');
      }));
      assert.equal((await verifyAudit(store.db)).checked, 5);
    });

    const tamperings: [string, string, RegExp][] = [
      ['a changed payload', `update audit_log set payload = '{"i": 99}' where seq = 3`, /payload/],
      ['a changed actor', `update audit_log set actor_subject = 'mallory' where seq = 3`, /hash/],
      ['a changed time', `update audit_log set at = at + interval '1 second' where seq = 3`, /hash/],
      ['a recomputed digest over a changed payload', `update audit_log set payload = '{"i": 99}', payload_digest = '${'0'.repeat(64)}' where seq = 3`, /payload/],
      ['a deleted row', `delete from audit_log where seq = 3`, /sequence 3 is missing/],
      ['a re-linked row', `update audit_log set prev_hash = '${'f'.repeat(64)}' where seq = 3`, /prev_hash/],
    ];
    for (const [what, statement, reason] of tamperings) {
      test(`${what} is found and the row named`, async () => {
        await appendFive();
        await sql.raw(statement).execute(store.db);
        const result = await verifyAudit(store.db);
        assert.equal(result.ok, false);
        assert.equal(result.firstBad?.seq, 3);
        assert.match(result.firstBad!.reason, reason);
        assert.equal(result.checked, 2);
      });
    }

    test('a secret-looking field is refused before it reaches the chain', async () => {
      await assert.rejects(
        store.db.transaction().execute((tx) => appendAudit(tx, actor, { action: 'x', subject: 'y', payload: { nested: { password: 'hunter2' } } })),
        (error: unknown) => error instanceof CordonError && error.code === 'ERR_AUDIT_SECRET',
      );
    });
  });
}
