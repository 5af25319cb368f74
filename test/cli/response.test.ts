import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXAMPLE_INVENTORY } from '../helpers/examples.js';
import { exited, runCli, startCliServer } from '../helpers/cli.js';
import { leakedInGitleaks } from '../helpers/respond.js';

/** One step that waits for approval, on an identity no system needs to be reached for. */
const PLAYBOOK = `apiVersion: cordon/v1
kind: Playbook
id: review-leak
title: Review a leak
match:
  types: [secret_exposure]
tiers:
  - name: review
    steps:
      - id: watch
        action: raise_monitoring
        approval:
          required: true
`;

describe('bin/cordon playbooks and actions', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-cli-response-'));
    await writeFile(join(dir, 'review-leak.yaml'), PLAYBOOK);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('playbooks validate accepts the shipped playbooks', async () => {
    const result = await runCli(['playbooks', 'validate'], {});
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ok {2}secret-exposure-confirmed: 5 step\(s\)/);
    assert.match(result.stdout, /7 playbook\(s\) valid/);
  });

  test('playbooks validate exits 1 naming the file, line, column, playbook, step and field', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'cordon-bad-playbooks-'));
    try {
      await writeFile(join(bad, 'broken.yaml'), PLAYBOOK.replace('action: raise_monitoring', 'action: raise_monitoring\n        timeout: 2 hours'));
      const result = await runCli(['playbooks', 'validate', bad], {});
      assert.equal(result.code, 1);
      assert.match(result.stderr, /broken\.yaml:12:18 \/tiers\/0\/steps\/0\/timeout: playbook "review-leak": step "watch": /);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  test('playbooks dry-run prints the plan of a described detection, changing nothing', async () => {
    const data = join(dir, 'dry-run-data');
    const imported = await runCli(['inventory', 'import', EXAMPLE_INVENTORY], { CORDON_DATA_DIR: data });
    assert.equal(imported.code, 0, imported.stderr);
    const result = await runCli(['playbooks', 'dry-run', '--type', 'off_hours_privileged', '--severity', 'high', '--confidence', 'high', '--identity', 'agent-refunds'], { CORDON_DATA_DIR: data });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^playbook agent-off-hours v1: AI agent acting off-hours with privileges$/m);
    assert.match(result.stdout, / 1\. contain\/quarantine: quarantine on agent-refunds by broker → run\n {6}quarantine identity agent-refunds: /);
    assert.match(result.stdout, /escalation \(playbook\): /);
    const runs = await runCli(['audit', 'verify'], { CORDON_DATA_DIR: data });
    assert.equal(runs.code, 0);
  });

  test('actions list, approve and deny go through the API as the token\'s owner', async () => {
    const data = join(dir, 'serve-data');
    const server = await startCliServer({ CORDON_DATA_DIR: data, CORDON_PLAYBOOK_DIR: dir });
    try {
      const admin = (await readFile(join(data, 'admin-token'), 'utf8')).trim();
      const api = (method: string, path: string, body: unknown, token = admin) => fetch(`${server.url}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const inventory = { apiVersion: 'cordon/v1', kind: 'Inventory', identities: [
        { id: 'key-a', kind: 'api_key', name: 'a', provider: 'generic', environment: 'production', credentials: [{ name: 'k', type: 'api_key', value: 'cli-leaked-a-0001' }] },
        { id: 'key-b', kind: 'api_key', name: 'b', provider: 'generic', environment: 'production', credentials: [{ name: 'k', type: 'api_key', value: 'cli-leaked-b-0002' }] },
      ] };
      assert.equal((await api('POST', '/v1/inventory', inventory)).status, 200);
      const approver = ((await (await api('POST', '/v1/tokens', { name: 'alice', subject: 'alice', role: 'approver' })).json()) as { token: string }).token;
      // The admin reports both leaks: the admin asked, so only someone else may approve.
      assert.equal((await api('POST', '/v1/events?format=gitleaks', [...leakedInGitleaks('cli-leaked-a-0001'), ...leakedInGitleaks('cli-leaked-b-0002')])).status, 200);
      const env = { CORDON_URL: server.url, CORDON_DATA_DIR: data };
      let listed = '';
      for (let i = 0; i < 100 && (listed.match(/awaiting_approval/g) ?? []).length < 2; i++) {
        listed = (await runCli(['actions', 'list', '--state', 'awaiting_approval'], env)).stdout;
      }
      const ids = [...listed.matchAll(/^(\S+) {2}awaiting_approval/gm)].map((m) => m[1]!);
      assert.equal(ids.length, 2, listed);
      const self = await runCli(['actions', 'approve', ids[0]!], env);
      assert.equal(self.code, 1);
      assert.match(self.stderr, /ERR_SELF_APPROVAL/);
      const approved = await runCli(['actions', 'approve', ids[0]!, '--token', approver], env);
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(approved.stdout, /raise_monitoring identity key-[ab]: watch level raised for 24h\n/);
      assert.match(approved.stdout, /approved: the step is approved/);
      const denied = await runCli(['actions', 'deny', ids[1]!, '--reason', 'a test key', '--token', approver], env);
      assert.equal(denied.code, 0, denied.stderr);
      const shown = JSON.parse((await runCli(['actions', 'show', ids[1]!], env)).stdout);
      assert.equal(shown.state, 'denied');
      assert.equal(shown.error, 'a test key');
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  });
});
