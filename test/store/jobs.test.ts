import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { InvalidInputError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startWorker } from '../../src/runtime/worker.js';
import { openStore, type Store } from '../../src/store/db.js';
import { claimJobs, enqueueJob, getJob, type Job } from '../../src/store/jobs.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';

const quiet = createLogger('silent');

/** Resolves when `count` jobs have finished on any of the workers. */
function finished(workers: { events: NodeJS.EventEmitter }[], count: number): Promise<Job[]> {
  return new Promise((resolve) => {
    const done: Job[] = [];
    for (const w of workers) {
      w.events.on('finished', (job: Job) => {
        done.push(job);
        if (done.length === count) resolve(done);
      });
    }
  });
}

for (const kind of STORE_KINDS) {
  describe(`job queue on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(() => store?.close());

    test('claims skip jobs another claimer holds', async () => {
      await sql`truncate jobs`.execute(store.db);
      for (let i = 0; i < 6; i++) await enqueueJob(store.db, { kind: 'k', payload: { i }, createdBy: 'test' });
      const [a, b] = await Promise.all([claimJobs(store.db, 'w1', ['k'], 4, 60_000), claimJobs(store.db, 'w2', ['k'], 4, 60_000)]);
      const ids = [...a, ...b].map((j) => j.id);
      assert.equal(ids.length, 6);
      assert.equal(new Set(ids).size, 6);
      assert.deepEqual(await claimJobs(store.db, 'w3', ['k'], 4, 60_000), []);
    });

    test('a job whose worker died is claimed again after its lease', async () => {
      await sql`truncate jobs`.execute(store.db);
      const job = await enqueueJob(store.db, { kind: 'lease', payload: {}, createdBy: 'test' });
      await claimJobs(store.db, 'dead-worker', ['lease'], 1, 60_000);
      assert.deepEqual(await claimJobs(store.db, 'w2', ['lease'], 1, 60_000), []);
      await sql`update jobs set locked_until = now() - interval '1 second' where id = ${job.id}`.execute(store.db);
      const [again] = await claimJobs(store.db, 'w2', ['lease'], 1, 60_000);
      assert.equal(again?.id, job.id);
      assert.equal(again?.attempts, 2);
    });

    test('a failing job is retried with backoff, then failed for good; bad input is not retried', async () => {
      await sql`truncate jobs`.execute(store.db);
      let calls = 0;
      const worker = startWorker({
        db: store.db, logger: quiet, pollMs: 50,
        handlers: {
          flaky: async () => {
            calls++;
            throw new Error('server unreachable');
          },
          invalid: async () => {
            throw new InvalidInputError('ERR_X', 'bad params');
          },
        },
      });
      try {
        const flaky = await enqueueJob(store.db, { kind: 'flaky', payload: {}, createdBy: 'test', maxAttempts: 2 });
        const invalid = await enqueueJob(store.db, { kind: 'invalid', payload: {}, createdBy: 'test', maxAttempts: 5 });
        const first = finished([worker], 2);
        worker.wake();
        await first;
        assert.equal((await getJob(store.db, flaky.id))!.status, 'queued', 'retried later');
        assert.equal((await getJob(store.db, invalid.id))!.status, 'failed', 'not retried');
        const retry = await getJob(store.db, flaky.id);
        // Skip the backoff instead of waiting it out.
        await sql`update jobs set run_after = now() where id = ${retry!.id}`.execute(store.db);
        const second = once(worker.events, 'finished');
        worker.wake();
        await second;
        const final = (await getJob(store.db, flaky.id))!;
        assert.equal(final.status, 'failed');
        assert.equal(final.attempts, 2);
        assert.equal(calls, 2);
        assert.match(final.error!, /server unreachable/);
      } finally {
        await worker.stop();
      }
    });
  });
}

describe('job queue shared by several processes on PostgreSQL', { skip: await storeSkip('postgres') }, () => {
  let store: TestStore;
  const others: Store[] = [];
  before(async () => {
    store = await openTestStore('postgres');
    for (let i = 0; i < 2; i++) others.push(await openStore({ databaseUrl: store.url!, poolSize: 4 }));
  });
  after(async () => {
    for (const s of others) await s.close();
    await store?.close();
  });

  test('three workers on three pools run each of 60 jobs exactly once', async () => {
    const runs = new Map<string, number>();
    const handler = async (job: Job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      return {};
    };
    const workers = [store, ...others].map((s) => startWorker({ db: s.db, logger: quiet, pollMs: 20, concurrency: 3, handlers: { work: handler } }));
    try {
      const all = finished(workers, 60);
      for (let i = 0; i < 60; i++) await enqueueJob(store.db, { kind: 'work', payload: { i }, createdBy: 'test' });
      for (const w of workers) w.wake();
      const done = await all;
      assert.equal(done.length, 60);
      assert.equal(runs.size, 60);
      assert.ok([...runs.values()].every((n) => n === 1));
      const { rows } = await sql<{ n: string }>`select count(*) as n from jobs where status = 'succeeded'`.execute(store.db);
      assert.equal(Number(rows[0]!.n), 60);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});
