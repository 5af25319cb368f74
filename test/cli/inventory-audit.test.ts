import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/db.js';
import { runCli } from '../helpers/cli.js';
import { EXAMPLE_INVENTORY, exampleSecretValues } from '../helpers/examples.js';

describe('bin/cordon inventory and audit on the embedded store', () => {
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cordon-cli-'));
    env = { CORDON_DATA_DIR: dataDir };
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('inventory import reports what it created, then nothing new on the second run', async () => {
    const first = await runCli(['inventory', 'import', EXAMPLE_INVENTORY], { ...env, CORDON_LOG_LEVEL: 'trace' });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).identities.created, 53);
    for (const value of exampleSecretValues()) assert.ok(!`${first.stdout}${first.stderr}`.includes(value), 'no plaintext in the CLI output or logs');
    const second = await runCli(['inventory', 'import', EXAMPLE_INVENTORY], env);
    assert.equal(JSON.parse(second.stdout).identities.unchanged, 53);
  });

  test('a broken file fails with exit 1 naming file, line, path and field', async () => {
    const bad = join(dataDir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: cordon/v1\nkind: Inventory\nidentities:\n  - id: x\n    kind: robot\n    name: x\n    provider: generic\n    environment: p\n');
    const result = await runCli(['inventory', 'import', bad], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${bad}:5:11 /identities/0/kind: must be one of: service_account`));
  });

  test('an exported inventory imports back without changes', async () => {
    const exported = join(dataDir, 'export.yaml');
    const out = await runCli(['inventory', 'export', '-o', exported], env);
    assert.equal(out.code, 0, out.stderr);
    const again = await runCli(['inventory', 'import', exported], env);
    const summary = JSON.parse(again.stdout) as Record<string, { created: number; updated: number }>;
    for (const [entity, counts] of Object.entries(summary)) assert.deepEqual([counts.created, counts.updated], [0, 0], entity);
  });

  test('audit verify passes, then fails naming the row edited by hand', async () => {
    const ok = await runCli(['audit', 'verify'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /audit chain ok: 3 records/);

    const store = await openStore({ pgliteDir: dataDir });
    await sql`update audit_log set actor_subject = 'someone-else' where seq = 2`.execute(store.db);
    await store.close();

    const broken = await runCli(['audit', 'verify'], env);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /audit chain BROKEN at seq 2: hash does not match/);
  });
});
