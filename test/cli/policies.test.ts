import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const POLICY_DIR = join(REPO_ROOT, 'policies');

describe('bin/cordon policies', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-policies-'));
    await copyFile(join(POLICY_DIR, 'cordon.cedarschema'), join(dir, 'cordon.cedarschema'));
    await copyFile(join(POLICY_DIR, 'entities.json'), join(dir, 'entities.json'));
    await mkdir(join(dir, 'tests'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('validate accepts the shipped policies', async () => {
    const result = await runCli(['policies', 'validate'], {});
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /policies ok: 9 policies and the built-in guard/);
  });

  test('validate exits 1 naming the file, line, column and policy of each problem', async () => {
    await writeFile(join(dir, 'tools.cedar'), '@id("fine") permit (principal, action, resource);\n\n@id("wrong")\nforbid (principal, action, resource)\nwhen { context.risk.level > 2 };\n');
    const result = await runCli(['policies', 'validate', dir], {});
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error ERR_POLICY_INVALID/);
    assert.match(result.stderr, /tools\.cedar:5:8 \/policies\/wrong: policy "wrong": .*attribute `risk\.level`/);
  });

  test('test runs the shipped cases and passes', async () => {
    const result = await runCli(['policies', 'test'], {});
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /12 passed, 0 failed/);
  });

  test('test exits 1 and shows what a failing case expected and got', async () => {
    await writeFile(join(dir, 'tools.cedar'), '@id("bots-call") permit (principal is Cordon::Bot, action == Cordon::Action::"tool.call", resource);\n');
    await writeFile(join(dir, 'tests', 'bots.yaml'), [
      'identities:',
      '  bot-a: { kind: bot }',
      'cases:',
      '  - name: a bot calls a tool',
      '    principal: bot-a',
      '    action: tool.call',
      '    resource: { type: Cordon::Tool, id: tickets.read }',
      '    expect: allow',
      '  - name: an offboarded bot is allowed (wrong on purpose)',
      '    principal: bot-a',
      '    status: offboarded',
      '    action: tool.call',
      '    resource: { type: Cordon::Tool, id: tickets.read }',
      '    expect: allow',
      '',
    ].join('\n'));
    const result = await runCli(['policies', 'test', dir], {});
    assert.equal(result.code, 1);
    assert.match(result.stdout, /ok {6}a bot calls a tool/);
    assert.match(result.stdout, /FAILED {2}an offboarded bot is allowed \(wrong on purpose\)[^\n]*\n\s+expected allow\n\s+got +deny by \[cordon\.guard\.containment\]/);
    assert.match(result.stdout, /1 passed, 1 failed/);
  });
});
