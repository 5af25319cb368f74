import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/db.js';
import { runCli } from '../helpers/cli.js';
import { loginPostgres } from '../helpers/logins.js';
import { passwordAuthSkip } from '../helpers/password-auth.js';
import { skipUnless } from '../helpers/services.js';

const LEAKED = 'demo-Pg-payments-api-7Q2vX9kLm4';
const realPostgres = (await skipUnless('postgres')) || (await passwordAuthSkip());

/** The figures the demo printed, and the same figures read from the store it leaves behind. */
async function check(dir: string, stdout: string) {
  const store = await openStore({ pgliteDir: dir });
  try {
    const detections = await store.db.selectFrom('detections').select(['type']).execute();
    const byType = new Map<string, number>();
    for (const d of detections) byType.set(d.type, (byType.get(d.type) ?? 0) + 1);
    const printedDetections = /^detections: (.+)$/m.exec(stdout)![1]!;
    assert.deepEqual(new Map(printedDetections.split(', ').map((p) => [p.split(' ')[1]!, Number(p.split(' ')[0])])), byType);
    const runs = await store.db.selectFrom('actionRuns').select(['state']).execute();
    const verified = runs.filter((r) => r.state === 'verified').length;
    assert.match(stdout, new RegExp(`^actions: ${verified} verified`, 'm'));
    const approvals = await store.db.selectFrom('actionApprovals').select('id').where('decision', '=', 'approve').execute();
    assert.match(stdout, new RegExp(`approvals given: ${approvals.length}$`, 'm'));
    const incidents = await store.db.selectFrom('incidents').select(['id', 'status']).execute();
    for (const incident of incidents) assert.match(stdout, new RegExp(`^incident ${incident.id}: ${incident.status}`, 'm'));
    return { byType, verified, runs, incidents };
  } finally {
    await store.close();
  }
}

describe('bin/cordon demo', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-demo-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('against the local PostgreSQL: detected, contained, approved and verified, with a summary read from the run', { skip: realPostgres }, async () => {
    const data = join(dir, 'real');
    const result = await runCli(['demo', '--data-dir', data, '--port', '0'], {});
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^PostgreSQL: real/m);
    assert.ok(!result.stdout.includes('SIMULATED'));
    const { byType, incidents, runs } = await check(data, result.stdout);
    assert.deepEqual([...byType.keys()].sort(), ['off_hours_privileged', 'secret_exposure', 'use_after_revocation']);
    assert.ok(runs.every((r) => r.state === 'verified'), 'every step verified');
    assert.deepEqual(incidents.map((i) => i.status).sort(), ['contained', 'contained', 'triage']);
    assert.match(result.stdout, /dana \(approver\) reviews and approves: disable_identity on cordon_demo_payments_api/);
    assert.match(result.stdout, /^ {2}http:\/\/127\.0\.0\.1:\d+\/v1\/incidents\/[0-9a-f-]+\/report\?format=md$/m);
    assert.equal(await loginPostgres('test', 'cordon_demo_payments_api', LEAKED), '28P01', 'on the real server, the leaked password no longer works');
  });

  test('without a usable PostgreSQL the payments roles are simulated, and everything they prove says so', async () => {
    const data = join(dir, 'simulated');
    const result = await runCli(['demo', '--data-dir', data, '--port', '0', '--simulate'], {});
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^PostgreSQL: SIMULATED/m);
    assert.match(result.stdout, /rotate_credential on credential db-password of cordon_demo_payments_api \(svc-payments-api\) \[SIMULATED postgres\]: verified/);
    await check(data, result.stdout);
  });

  test('a directory the demo did not make is never wiped', async () => {
    const result = await runCli(['demo', '--data-dir', process.cwd()], {});
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not empty and was not made by the demo/);
  });
});
