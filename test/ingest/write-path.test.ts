import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import type { DetectionSink } from '../../src/ingest/ingested.js';
import { BATCH_SIZE, ingestService } from '../../src/ingest/pipeline.js';
import { identityResolver } from '../../src/ingest/resolve.js';
import { storeTurns } from '../../src/ingest/turns.js';
import type { TestApp } from '../helpers/app.js';
import { detectionsOf, nativeEvent, startSeededApp } from '../helpers/events.js';
import { STORE_KINDS, storeSkip } from '../helpers/store.js';

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n');

async function eventCount(t: TestApp): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from events`.execute(t.context.db);
  return Number(rows[0]!.n);
}

for (const kind of STORE_KINDS) {
  describe(`the write path on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startSeededApp(kind);
    });
    after(() => t?.close());

    /** An ingest service on the test's store whose detection is `detection`. */
    const ingestWith = (detection: DetectionSink) => ingestService({
      db: t.context.db, fingerprint: t.context.fingerprint, sealer: { seal: async (s) => `sealed:${s.length}` }, resolver: identityResolver(t.context.db), detection,
    });

    test('a call of several batches stores every good record once and names each bad one by its own record and line', async () => {
      const before = await eventCount(t);
      const lines = Array.from({ length: BATCH_SIZE * 2 + 500 }, (_, i) => JSON.stringify(nativeEvent({ identity: { id: 'svc-deployer' }, target: `api:${i % 7}` })));
      const bad = BATCH_SIZE * 2 + 10;
      lines[bad] = '{"type": "api.call"';
      const summary = await t.context.events.ingest(lines.join('\n'), { channel: 'cli' }, SYSTEM_ACTOR);
      assert.equal(summary.received, lines.length);
      assert.equal(summary.stored, lines.length - 1);
      assert.deepEqual(summary.errors.map((e) => `${e.record}:${e.line}:${e.code}`), [`${bad}:${bad + 1}:ERR_EVENT_UNPARSEABLE`]);
      assert.deepEqual(summary.events.map((e) => e.record), lines.map((_, i) => i).filter((i) => i !== bad));
      assert.equal(await eventCount(t), before + lines.length - 1);
      const audits = await t.context.db.selectFrom('auditLog').select('payload').where('action', '=', 'events.ingested').orderBy('seq', 'desc').limit(3).execute();
      assert.deepEqual(audits.map((a) => (a.payload as { received: number }).received).reverse(), [BATCH_SIZE, BATCH_SIZE, 500], 'one audit record per batch, in order');
    });

    test('two calls at once sending the same records store them once', async () => {
      const before = await eventCount(t);
      const body = ndjson(Array.from({ length: 50 }, () => nativeEvent({ identity: { id: 'svc-deployer' } })));
      const [a, b] = await Promise.all([
        t.context.events.ingest(body, { channel: 'api' }, SYSTEM_ACTOR),
        t.context.events.ingest(body, { channel: 'api' }, SYSTEM_ACTOR),
      ]);
      assert.equal(a.stored + b.stored, 50);
      assert.equal(a.duplicates + b.duplicates, 50);
      assert.equal(await eventCount(t), before + 50);
    });

    test('a batch mixing stored and new records stores the new ones', async () => {
      const stored = nativeEvent({ identity: { id: 'svc-deployer' } });
      const fresh = nativeEvent({ identity: { id: 'svc-deployer' } });
      await t.context.events.ingest(ndjson([stored]), { channel: 'api' }, SYSTEM_ACTOR);
      const before = await eventCount(t);
      const summary = await t.context.events.ingest(ndjson([fresh, stored]), { channel: 'api' }, SYSTEM_ACTOR);
      assert.deepEqual([summary.stored, summary.duplicates], [1, 1]);
      assert.deepEqual(summary.events.map((e) => e.record), [0]);
      assert.equal(await eventCount(t), before + 1);
    });

    test('text with tabs, line breaks, backslashes, quotes and braces is stored exactly', async () => {
      const awkward = 'a\tb\\c\nd\r"e" {f,g} \\N \\. NULL';
      const record = nativeEvent({ identity: { id: 'svc-deployer' }, target: awkward, action: awkward, userAgent: awkward, source: awkward, attributes: { note: awkward } });
      const summary = await t.context.events.ingest(JSON.stringify(record), { channel: 'api' }, SYSTEM_ACTOR);
      const row = await t.context.db.selectFrom('events').selectAll().where('id', '=', summary.events[0]!.id).executeTakeFirstOrThrow();
      assert.deepEqual([row.target, row.action, row.userAgent, row.source], [awkward, awkward, awkward, awkward]);
      assert.equal((row.attributes as { note: string }).note, awkward);
      assert.deepEqual(row.raw, record);
      assert.deepEqual(row.identityIds, ['svc-deployer']);
    });

    test('a batch whose detection fails is rolled back, and the batches after it are stored', async () => {
      let failNext = true;
      const ingest = ingestWith({
        async detect(tx, events, actor) {
          if (failNext) {
            failNext = false;
            throw new Error('detector broke');
          }
          return t.context.detection.detect(tx, events, actor);
        },
      });
      const before = await eventCount(t);
      const bodies = [ndjson([nativeEvent({ identity: { id: 'svc-deployer' } })]), ndjson([nativeEvent({ identity: { id: 'svc-deployer' } })])];
      const results = await Promise.allSettled(bodies.map((body) => ingest.ingest(body, { channel: 'api' }, SYSTEM_ACTOR)));
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal(results.find((r) => r.status === 'fulfilled')!.value.stored, 1);
      assert.equal(await eventCount(t), before + 1, 'the batch that failed left nothing');
      const again = await Promise.all(bodies.map((body) => ingest.ingest(body, { channel: 'api' }, SYSTEM_ACTOR)));
      assert.deepEqual(again.map((s) => s.stored).sort(), [0, 1], 'the failed batch can be sent again');
    });

    test('detection runs holding the audit chain lock, so batches of two processes take their locks in one order', async () => {
      const held: boolean[] = [];
      const ingest = ingestWith({
        async detect(tx, events, actor) {
          const { rows } = await sql<{ n: string }>`select count(*) as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted`.execute(tx);
          held.push(Number(rows[0]!.n) > 0);
          return t.context.detection.detect(tx, events, actor);
        },
      });
      await ingest.ingest(ndjson([nativeEvent({ identity: { id: 'svc-deployer' } })]), { channel: 'api' }, SYSTEM_ACTOR);
      assert.deepEqual(held, [true]);
    });

    /** An ingest service whose next batch, once armed, fails after detection ran, before its commit. */
    function failingAfterDetection() {
      let armed = false;
      const ingest = ingestWith({
        async detect(tx, events, actor) {
          const result = await t.context.detection.detect(tx, events, actor);
          if (armed) {
            armed = false;
            throw new Error('the store failed after detection');
          }
          return result;
        },
      });
      const send = (records: unknown[]) => ingest.ingest(ndjson(records), { channel: 'api' }, SYSTEM_ACTOR);
      return {
        send,
        /** Sends the records in a batch that is rolled back, then again: what the second time detects. */
        async lostThenSent(records: unknown[]): Promise<number> {
          armed = true;
          await assert.rejects(send(records), /failed after detection/);
          const retried = await send(records);
          assert.equal(retried.stored, records.length);
          return retried.detections;
        },
      };
    }
    const detected = (type: string, identityId: string) => detectionsOf(t, type).then((all) => all.filter((d) => d.identityId === identityId));

    test('a batch rolled back after detection teaches the baselines nothing: sent again, it is detected again', async () => {
      const { send, lostThenSent } = failingAfterDetection();
      const history = Array.from({ length: 25 }, (_, i) => nativeEvent({ identity: { id: 'svc-siem-forwarder' }, minutesAgo: 90 - i, asn: 64510, geo: 'FR', target: 'pg:reports' }));
      assert.equal((await send(history)).stored, 25);
      assert.deepEqual(await detected('new_source', 'svc-siem-forwarder'), []);
      const attack = [nativeEvent({ identity: { id: 'svc-siem-forwarder' }, minutesAgo: 5, asn: 65099, geo: 'KP', target: 'pg:reports' })];
      assert.equal(await lostThenSent(attack), 1, 'the retry is judged against the baseline as it was before the lost batch');
      assert.equal((await detected('new_source', 'svc-siem-forwarder')).length, 1);
    });

    test('a token chain in a batch rolled back is detected when the batch is sent again', async () => {
      const { lostThenSent } = failingAfterDetection();
      const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000);
      const chain = [
        nativeEvent({ type: 'token.used', identity: { id: 'svc-scim-sync', jti: 'replay-root' }, target: 'api:logs', at: at(50) }),
        nativeEvent({ type: 'token.used', identity: { id: 'svc-scim-sync', jti: 'replay-hop-1' }, parentJti: 'replay-root', target: 'vault:prod', at: at(40) }),
        nativeEvent({ type: 'token.used', identity: { id: 'svc-scim-sync', jti: 'replay-hop-2' }, parentJti: 'replay-hop-1', target: 'k8s:prod-cluster', at: at(30) }),
      ];
      assert.equal(await lostThenSent(chain), 1);
      assert.equal((await detected('lateral_movement', 'svc-scim-sync')).length, 1);
    });
  });
}

describe('store turns', () => {
  /** A promise settled from outside. */
  function deferred<T = void>() {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  test('a batch is inserted while the one before it finishes, and finishes after it', async () => {
    const turns = storeTurns();
    const log: string[] = [];
    const finishing = deferred();
    const secondInserted = deferred();
    const first = turns.run(async () => log.push('insert 1'), async () => {
      log.push('finish 1 starts');
      await finishing.promise;
      log.push('finish 1 ends');
    });
    const second = turns.run(async () => {
      log.push('insert 2');
      secondInserted.resolve();
    }, async () => log.push('finish 2'));
    await secondInserted.promise;
    assert.deepEqual(log, ['insert 1', 'finish 1 starts', 'insert 2']);
    finishing.resolve();
    await Promise.all([first, second]);
    assert.deepEqual(log, ['insert 1', 'finish 1 starts', 'insert 2', 'finish 1 ends', 'finish 2']);
  });

  test('at most two batches are in the store at once', async () => {
    const turns = storeTurns();
    const log: string[] = [];
    const finishing = deferred();
    const secondInserted = deferred();
    const first = turns.run(async () => log.push('insert 1'), async () => {
      await finishing.promise;
      log.push('finish 1');
    });
    const second = turns.run(async () => {
      log.push('insert 2');
      secondInserted.resolve();
    }, async () => log.push('finish 2'));
    const third = turns.run(async () => log.push('insert 3'), async () => log.push('finish 3'));
    await secondInserted.promise;
    assert.ok(!log.includes('insert 3'), 'the third waits for the first to finish');
    finishing.resolve();
    await Promise.all([first, second, third]);
    assert.ok(log.indexOf('insert 3') > log.indexOf('finish 1'), log.join(', '));
    assert.deepEqual(log.filter((l) => l.startsWith('finish')), ['finish 1', 'finish 2', 'finish 3']);
  });

  test('a batch that fails does not break the order of those after it', async () => {
    const turns = storeTurns();
    const log: string[] = [];
    const failing = turns.run(async () => {
      throw new Error('insert failed');
    }, async () => log.push('finish 1'));
    const next = turns.run(async () => log.push('insert 2'), async () => log.push('finish 2'));
    await assert.rejects(failing, /insert failed/);
    await next;
    assert.deepEqual(log, ['insert 2', 'finish 2']);
  });
});
