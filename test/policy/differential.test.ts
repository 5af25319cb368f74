import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { ShardResult, ShardTask } from './differential-worker.js';

/**
 * The indexed decision point against Cedar itself: random policies (every scope form, `when` and
 * `unless`, `in` over entity and action hierarchies, `forbid`, errors, a few only Cedar evaluates)
 * and random requests, decided by the engine and by `isAuthorized` over the whole set. Decision,
 * reasons and erroring policies must be identical for every request. The reference uses Cedar's
 * pre-parsed whole set (re-parsing 1,000 policies per request would take hours); every 1,000th
 * request is also checked against the stateless `isAuthorized`, which re-parses them. It takes
 * minutes: Cedar evaluates the 1,000 policies, at a few µs each, 100,000 times.
 */

// A worker does not inherit the test runner's TypeScript loader: register tsx, then load the shard.
const BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./differential-worker.ts', import.meta.url).href)}); });`;

function runShard(task: ShardTask): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: task });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`differential shard ${task.shard} exited with ${code}`)));
  });
}

async function differential(options: { seed: number; policies: number; requests: number; mode: ShardTask['mode'] }): Promise<ShardResult> {
  const shards = Math.max(1, Math.min(4, availableParallelism()));
  const results = await Promise.all(Array.from({ length: shards }, (_, shard) => runShard({
    seed: options.seed,
    policies: options.policies,
    shard,
    requests: Math.ceil(options.requests / shards),
    mode: options.mode,
    statelessEvery: 1000,
    allEntitiesEvery: 100,
  })));
  const total = results.reduce((sum, r) => {
    for (const key of Object.keys(sum) as (keyof ShardResult)[]) {
      if (key === 'mismatches') sum.mismatches.push(...r.mismatches);
      else sum[key] += r[key];
    }
    return sum;
  });
  return total;
}

describe('the indexed decision point against isAuthorized over the whole set', () => {
  test('100,000 random requests over 1,000 random policies get exactly the same decisions, reasons and errors', async () => {
    const result = await differential({ seed: 7, policies: 1000, requests: 100_000, mode: 'compiled' });
    assert.deepEqual(result.mismatches, []);
    assert.ok(result.compared >= 100_000, `compared ${result.compared}`);
    // The comparison covers every kind of outcome, and both evaluation paths.
    assert.ok(result.allow > 20_000, `allows: ${result.allow}`);
    assert.ok(result.denyByForbid > 5_000, `denies by a forbid: ${result.denyByForbid}`);
    assert.ok(result.defaultDeny > 5_000, `default denies: ${result.defaultDeny}`);
    assert.ok(result.withErrors > 10_000, `decisions with policy errors: ${result.withErrors}`);
    assert.ok(result.cedarCalls > 1_000, `decisions that needed Cedar: ${result.cedarCalls}`);
    assert.ok(result.fallbacks > 100, `decisions re-evaluated by Cedar: ${result.fallbacks}`);
    assert.ok(result.statelessChecked >= 100);
    assert.ok(result.allEntitiesChecked >= 1000);
  });

  test('evaluating every slice with Cedar from pre-parsed slices gives the same answers too', async () => {
    const result = await differential({ seed: 11, policies: 1000, requests: 2_000, mode: 'cedar' });
    assert.deepEqual(result.mismatches, []);
    assert.ok(result.compared >= 2_000);
    assert.equal(result.cedarCalls, result.compared);
    assert.ok(result.allow > 0 && result.denyByForbid > 0 && result.defaultDeny > 0);
  });
});
