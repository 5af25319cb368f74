import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES } from '../../src/domain/detection.js';
import { IDENTITY_KINDS } from '../../src/domain/identity.js';
import { playbookJsonSchema } from '../../src/respond/playbooks/json-schema.js';
import { loadPlaybookDir, playbookFromText, type Playbook } from '../../src/respond/playbooks/load.js';
import { selectPlaybook } from '../../src/respond/playbooks/match.js';
import { REPO_ROOT } from '../helpers/cli.js';

const SHIPPED = join(REPO_ROOT, 'playbooks');

const VALID = `apiVersion: cordon/v1
kind: Playbook
id: drill
title: Drill
match:
  types: [new_source]
tiers:
  - name: contain
    steps:
      - id: watch
        action: raise_monitoring
        params:
          duration: 2h
`;

function invalid(text: string) {
  try {
    playbookFromText(text, 'drill.yaml');
  } catch (error) {
    return error as Error & { code: string; issues: { path: string; message: string; source?: string }[] };
  }
  assert.fail('the playbook was accepted');
}

describe('playbooks', () => {
  let shipped: Playbook[];
  before(async () => {
    shipped = await loadPlaybookDir(SHIPPED);
  });

  test('the shipped playbooks validate', () => {
    assert.deepEqual(shipped.map((p) => p.id).sort(), [
      'agent-off-hours', 'anomaly-review', 'compromised-session', 'secret-exposure-confirmed', 'secret-exposure-reported', 'token-replay', 'unattributed-detection',
    ]);
  });

  test('every detection type, at every severity and confidence, with or without an identity, has a playbook', () => {
    const missing: string[] = [];
    for (const type of DETECTION_TYPES) {
      for (const severity of SEVERITIES) {
        for (const confidence of CONFIDENCES) {
          for (const identity of [...IDENTITY_KINDS.map((kind) => ({ kind, provider: 'generic', tags: [], environment: 'production' })), null]) {
            if (!selectPlaybook(shipped, { type, severity, confidence, identity })) missing.push(`${type}/${severity}/${confidence}/${identity?.kind ?? 'no identity'}`);
          }
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  test('the tiers of the specification: which playbook answers which detection', () => {
    const identity = { kind: 'db_role', provider: 'postgres', tags: [], environment: 'production' };
    const pick = (type: (typeof DETECTION_TYPES)[number], severity: (typeof SEVERITIES)[number], confidence: (typeof CONFIDENCES)[number], kind = identity) =>
      selectPlaybook(shipped, { type, severity, confidence, identity: kind })?.id;
    assert.equal(pick('secret_exposure', 'high', 'confirmed'), 'secret-exposure-confirmed');
    assert.equal(pick('secret_exposure', 'high', 'high'), 'secret-exposure-reported');
    assert.equal(pick('use_after_revocation', 'high', 'high'), 'token-replay');
    assert.equal(pick('new_source', 'medium', 'low'), 'anomaly-review');
    assert.equal(pick('off_hours_privileged', 'high', 'high', { ...identity, kind: 'ai_agent' }), 'agent-off-hours');
    assert.equal(pick('concurrent_sources', 'high', 'high'), 'compromised-session');
    const confirmed = shipped.find((p) => p.id === 'secret-exposure-confirmed')!;
    assert.deepEqual(confirmed.steps.map((s) => s.action), ['rotate_credential', 'revoke_sessions', 'disable_identity', 'snapshot_evidence', 'notify_owner']);
    assert.deepEqual(confirmed.steps.find((s) => s.id === 'disable')!.guards.map((g) => [g.when, g.then]),
      [['customer_facing', 'require_approval'], ['shared', 'require_approval'], ['blast_radius_above', 'escalate']]);
    const replay = shipped.find((p) => p.id === 'token-replay')!;
    assert.equal(replay.steps[0]!.action, 'revoke_sessions', 'a replay revokes sessions first');
    const agent = shipped.find((p) => p.id === 'agent-off-hours')!;
    assert.equal(agent.steps[0]!.action, 'quarantine');
    assert.equal(agent.escalation.always, true);
  });

  test('defaults are applied: approval auto, timeout 60 s, three attempts, the action\'s own parameter defaults', () => {
    const [step] = playbookFromText(VALID, 'drill.yaml').steps;
    assert.equal(step!.approval, 'auto');
    assert.equal(step!.timeoutMs, 60_000);
    assert.equal(step!.maxAttempts, 3);
    assert.equal(step!.target, 'identity');
    assert.deepEqual(step!.params, { duration: '2h', level: 'raised' });
  });

  test('a schema error names the playbook, the step, the field and where it is written', () => {
    const error = invalid(VALID.replace('action: raise_monitoring', 'action: reboot_everything'));
    assert.equal(error.code, 'ERR_PLAYBOOK_INVALID');
    assert.deepEqual(error.issues.map((i) => i.path), ['/tiers/0/steps/0/action']);
    assert.match(error.issues[0]!.message, /^playbook "drill": step "watch": must be one of: rotate_credential/);
    assert.equal(error.issues[0]!.source, 'drill.yaml:11:17');
  });

  test('an action\'s parameters are checked against what the action takes', () => {
    const error = invalid(VALID.replace('duration: 2h', 'duration: forever'));
    assert.deepEqual(error.issues.map((i) => i.path), ['/tiers/0/steps/0/params/duration']);
    assert.match(error.issues[0]!.message, /step "watch": raise_monitoring params duration/);
    const unknown = invalid(VALID.replace('duration: 2h', 'duration: 2h\n          colour: red'));
    assert.deepEqual(unknown.issues.map((i) => [i.path, i.message.replace(/^.*: /, '')]), [['/tiers/0/steps/0/params/colour', 'raise_monitoring params colour is not an allowed field']]);
    const tooLong = invalid(VALID.replace('duration: 2h', 'duration: 90d'));
    assert.match(tooLong.issues[0]!.message, /at most 30d/);
  });

  test('a target the action cannot act on, a guard missing its limit and a step id used twice are each named', () => {
    const error = invalid(`${VALID.replace('action: raise_monitoring', 'action: raise_monitoring\n        target: credential')}      - id: watch
        action: disable_identity
        guards:
          - when: blast_radius_above
            then: escalate
`);
    assert.deepEqual(error.issues.map((i) => i.path).sort(), ['/tiers/0/steps/0/target', '/tiers/0/steps/1/guards/0/above', '/tiers/0/steps/1/id']);
    assert.ok(error.issues.every((i) => i.message.startsWith('playbook "drill": step "watch"')));
  });

  test('YAML that does not parse is refused with its line and column', () => {
    const error = invalid('apiVersion: cordon/v1\nkind: Playbook\nid: [unclosed\n');
    assert.equal(error.code, 'ERR_PLAYBOOK_SYNTAX');
    assert.match(error.issues[0]!.source!, /^drill\.yaml:\d+:\d+$/);
  });

  test('a directory with one bad file is refused whole, naming the file; two playbooks with one id are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-playbooks-'));
    try {
      await writeFile(join(dir, 'a.yaml'), VALID);
      await writeFile(join(dir, 'b.yaml'), VALID);
      await writeFile(join(dir, 'c.yaml'), VALID.replace('id: drill', 'id: other').replace('types: [new_source]', 'types: []'));
      await assert.rejects(loadPlaybookDir(dir, dir), (error: Error & { issues: { source?: string; path: string; message: string }[] }) => {
        assert.deepEqual(error.issues.map((i) => [i.source, i.path]), [['b.yaml:3:5', '/id'], ['c.yaml:6:10', '/match/types']]);
        assert.match(error.issues[0]!.message, /already used in a\.yaml/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the committed playbook JSON Schema matches the one the code validates with (npm run schemas)', () => {
    assert.equal(readFileSync(join(REPO_ROOT, 'schemas', 'playbook.schema.json'), 'utf8'), playbookJsonSchema());
  });
});

describe('playbook versions', () => {
  let dir: string;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a changed playbook is a new version; the same content is not', async () => {
    const { startTestApp } = await import('../helpers/app.js');
    const { openTestStore } = await import('../helpers/store.js');
    dir = await mkdtemp(join(tmpdir(), 'cordon-playbooks-'));
    await writeFile(join(dir, 'drill.yaml'), VALID);
    const t = await startTestApp(await openTestStore('pglite'), { CORDON_PLAYBOOK_DIR: dir });
    try {
      const put = (text: string) => t.app.inject({ method: 'POST', url: '/v1/playbooks', headers: { ...t.auth('admin'), 'content-type': 'application/yaml' }, payload: text });
      const listed = await t.app.inject({ method: 'GET', url: '/v1/playbooks', headers: t.auth('viewer') });
      assert.deepEqual(listed.json().items.map((p: { id: string; version: number; origin: string }) => [p.id, p.version, p.origin]), [['drill', 1, 'files']]);
      assert.deepEqual((await put(VALID)).json(), { id: 'drill', version: 1, created: false });
      assert.deepEqual((await put(VALID.replace('2h', '3h'))).json(), { id: 'drill', version: 2, created: true });
      assert.deepEqual((await put(VALID)).json(), { id: 'drill', version: 3, created: true }, 'going back is a new version too');
      const detail = await t.app.inject({ method: 'GET', url: '/v1/playbooks/drill', headers: t.auth('viewer') });
      assert.deepEqual(detail.json().versions.map((v: { version: number; origin: string }) => [v.version, v.origin]), [[3, 'api'], [2, 'api'], [1, 'files']]);
      const old = await t.app.inject({ method: 'GET', url: '/v1/playbooks/drill?version=2', headers: t.auth('viewer') });
      assert.equal(old.json().playbook.steps[0].params.duration, '3h');
      const viewer = await t.app.inject({ method: 'POST', url: '/v1/playbooks', headers: { ...t.auth('viewer'), 'content-type': 'application/yaml' }, payload: VALID });
      assert.equal(viewer.statusCode, 403);
      const broken = await t.app.inject({ method: 'POST', url: '/v1/playbooks/validate', headers: { ...t.auth('viewer'), 'content-type': 'application/yaml' }, payload: VALID.replace('duration: 2h', 'duration: 2 hours') });
      assert.equal(broken.statusCode, 400);
      assert.equal(broken.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.deepEqual(broken.json().errors.map((e: { path: string; source: string }) => [e.path, e.source]), [['/tiers/0/steps/0/params/duration', 'request body:13:21']]);
      const audited = await t.context.db.selectFrom('auditLog').select('payload').where('action', '=', 'playbook.versioned').where('subject', '=', 'playbook:drill').execute();
      assert.equal(audited.length, 3);
    } finally {
      await t.close();
    }
  });
});
