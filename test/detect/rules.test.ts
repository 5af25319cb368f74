import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidInputError } from '../../src/domain/errors.js';
import { loadConfig } from '../../src/runtime/config.js';
import { loadRules } from '../../src/detect/rules.js';
import type { TestApp } from '../helpers/app.js';
import { detectionsOf, ingestRecords, startSeededApp } from '../helpers/events.js';
import { cloudtrailAssumeRole, k8sAuditSecretRead } from '../ingest/fixtures.js';

const RULE = `id: demo-rule
title: Demo
type: suspicious_activity
severity: medium
confidence: low
condition: event.action == 'x'
frameworks:
  owaspNhi: [NHI1]
  nistCsf: [DE.CM-01]
`;

async function rulesError(files: Record<string, string>): Promise<InvalidInputError> {
  const dir = await mkdtemp(join(tmpdir(), 'cordon-rules-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await loadRules(dir, dir);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    return error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.fail('the rules were accepted');
}

describe('detection rules', () => {
  test('the rules shipped in rules/ load and validate', async () => {
    const rules = await loadRules(loadConfig({}).rulesDir);
    assert.ok(rules.length >= 4);
    assert.ok(rules.every((r) => r.frameworks.nistCsf.length > 0));
  });

  test('a bad field is named with the file and the rule', async () => {
    const error = await rulesError({ 'bad.yaml': RULE.replace('severity: medium', 'severity: dire').replace('NHI1', 'NHI11') });
    assert.equal(error.code, 'ERR_RULES_INVALID');
    assert.deepEqual(error.issues.map((i) => `${i.source} ${i.path}`).sort(), ['bad.yaml rule "demo-rule" /frameworks/owaspNhi/0', 'bad.yaml rule "demo-rule" /severity']);
  });

  test('a condition that is not CEL, or names an unknown variable, or is not boolean, is refused naming /condition', async () => {
    for (const condition of ['event.action ==', 'evnt.action == "x"', 'event.action']) {
      const error = await rulesError({ 'c.yaml': RULE.replace("condition: event.action == 'x'", `condition: '${condition.replace(/'/g, "''")}'`) });
      assert.deepEqual(error.issues.map((i) => i.path), ['/condition'], condition);
      assert.match(error.issues[0]!.source!, /c\.yaml rule "demo-rule"/);
    }
  });

  test('two rules with one id are refused, naming the second', async () => {
    const error = await rulesError({ 'a.yaml': RULE, 'b.yaml': RULE });
    assert.deepEqual(error.issues.map((i) => `${i.source} ${i.path}`), ['b.yaml rule "demo-rule" /id']);
  });

  test('several rules per file, as YAML documents; a disabled one is not loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-rules-'));
    await writeFile(join(dir, 'two.yaml'), `${RULE}---\n${RULE.replace('demo-rule', 'other-rule')}enabled: false\n`);
    const rules = await loadRules(dir, dir);
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(rules.map((r) => r.id), ['demo-rule']);
  });
});

describe('a shipped rule over ingested events', () => {
  let t: TestApp;
  before(async () => {
    t = await startSeededApp('pglite');
  });
  after(() => t?.close());

  test('CloudTrail StopLogging by a known identity fires cloudtrail-logging-tampered', async () => {
    const record = { ...cloudtrailAssumeRole(), eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventID: 'stop-1' };
    await ingestRecords(t, [record]);
    const found = await detectionsOf(t, 'defense_evasion');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.identityId, 'svc-airflow');
    const detection = await t.context.db.selectFrom('detections').select(['rule', 'frameworks']).where('type', '=', 'defense_evasion').executeTakeFirstOrThrow();
    assert.equal(detection.rule, 'cloudtrail-logging-tampered');
    assert.deepEqual(detection.frameworks.owaspNhi, ['NHI5']);
  });

  test('a service account listing secrets in every namespace fires k8s-secrets-listed-cluster-wide; reading one by name does not', async () => {
    const read = k8sAuditSecretRead();
    await ingestRecords(t, [read]);
    assert.deepEqual((await detectionsOf(t, 'suspicious_activity')).filter((d) => d.identityId === 'wl-payments-api'), []);
    const list = { ...read, auditID: 'list-all-1', verb: 'list', requestURI: '/api/v1/secrets', objectRef: { resource: 'secrets', apiVersion: 'v1' } };
    await ingestRecords(t, [list]);
    assert.equal((await detectionsOf(t, 'suspicious_activity')).filter((d) => d.identityId === 'wl-payments-api').length, 1);
  });

  test('the same call failing does not fire it', async () => {
    const record = { ...cloudtrailAssumeRole(), eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventID: 'stop-2', errorCode: 'AccessDenied' };
    const before = (await detectionsOf(t, 'defense_evasion')).length;
    await ingestRecords(t, [record]);
    assert.equal((await detectionsOf(t, 'defense_evasion')).length, before);
  });
});
