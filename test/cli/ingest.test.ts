import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { EXAMPLE_INVENTORY } from '../helpers/examples.js';
import { nativeEvent } from '../helpers/events.js';
import { gitleaksReport, PAYMENTS_PASSWORD } from '../ingest/fixtures.js';

describe('bin/cordon ingest on the embedded store', () => {
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cordon-cli-ingest-'));
    env = { CORDON_DATA_DIR: dataDir };
    const imported = await runCli(['inventory', 'import', EXAMPLE_INVENTORY], env);
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('an NDJSON file larger than a batch is ingested with progress; a bad line is named by its line number', async () => {
    const lines = Array.from({ length: 2100 }, (_, i) => JSON.stringify(nativeEvent({ identity: { id: 'svc-deployer' }, target: 'api:deploy', minutesAgo: 3000 - i })));
    lines[2049] = '{"type": "api.call", "time": "not a time"}';
    const file = join(dataDir, 'events.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    const result = await runCli(['ingest', file], env);
    assert.equal(result.code, 1, 'a rejected record makes the exit code 1');
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.received, 2100);
    assert.equal(summary.stored, 2099);
    assert.deepEqual(summary.errors.map((e: { record: number; line: number; path: string }) => `${e.record}:${e.line}:${e.path}`), ['2049:2050:/time']);
    assert.match(result.stderr, /ingest: 2000 records \(\d+%\)/);
    assert.match(result.stderr, /ingest: 2100 records \(100%\): 2099 stored/);
  });

  test('a pretty-printed gitleaks report is read whole and its leak detected; the same file again stores nothing', async () => {
    const file = join(dataDir, 'gitleaks.json');
    await writeFile(file, JSON.stringify(gitleaksReport(PAYMENTS_PASSWORD), null, 2));
    const first = await runCli(['ingest', file, '--format', 'gitleaks'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual({ stored: JSON.parse(first.stdout).stored, detections: JSON.parse(first.stdout).detections }, { stored: 1, detections: 2 });
    const again = await runCli(['ingest', file], env);
    assert.deepEqual({ stored: JSON.parse(again.stdout).stored, duplicates: JSON.parse(again.stdout).duplicates }, { stored: 0, duplicates: 1 });
  });

  test('an unknown format is refused before anything is read', async () => {
    const result = await runCli(['ingest', join(dataDir, 'gitleaks.json'), '--format', 'syslog'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--format: must be one of: native, ocsf/);
  });
});
