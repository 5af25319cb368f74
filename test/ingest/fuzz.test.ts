import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { EVENT_FORMATS } from '../../src/domain/event.js';
import { PARSERS } from '../../src/ingest/formats/index.js';
import type { TestApp } from '../helpers/app.js';
import { startSeededApp } from '../helpers/events.js';
import {
  cloudtrailAssumeRole, githubSecretScanningCreated, gitleaksReport, k8sAuditSecretRead, ocsfApiActivity, ocsfAuthentication, trufflehogLine,
} from './fixtures.js';

const RUNS = 10_000;
const SEED = 20261122;

/** Valid records of every format: mutating them reaches deeper into each parser than random JSON does. */
const VALID: unknown[] = [
  cloudtrailAssumeRole(), ocsfApiActivity(), ocsfAuthentication(), k8sAuditSecretRead(), githubSecretScanningCreated('s3cr3t-value-1'),
  gitleaksReport('s3cr3t-value-2')[0], trufflehogLine('s3cr3t-value-3'), { type: 'api.call', time: new Date().toISOString(), identity: { id: 'x' } },
];

/** A valid record with one field (at any depth) replaced, removed, or the record truncated. */
const replacement = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' }), fc.string({ unit: 'binary' }), fc.constantFrom('\u0000', '\ud800', 'x\udc00y'));
const mutated = fc.tuple(fc.constantFrom(...VALID), fc.nat(), replacement, fc.boolean()).map(([record, pick, replacement, remove]) => {
  const copy = structuredClone(record) as Record<string, unknown>;
  const paths: [Record<string, unknown>, string][] = [];
  const walk = (node: unknown) => {
    if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) {
      paths.push([node as Record<string, unknown>, k]);
      walk(v);
    }
  };
  walk(copy);
  const [parent, key] = paths[pick % paths.length]!;
  if (remove) delete parent[key];
  else parent[key] = replacement;
  return copy;
});

const payload = fc.oneof(mutated, fc.jsonValue(), fc.anything(), fc.object());

const text = fc.oneof(
  mutated.map((r) => JSON.stringify(r)),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
  fc.array(fc.oneof(mutated.map((r) => JSON.stringify(r)), fc.string()), { maxLength: 5 }).map((lines) => lines.join('\n')),
  mutated.map((r) => JSON.stringify(r)).chain((s) => fc.nat({ max: Math.max(0, s.length - 1) }).map((n) => s.slice(0, n))),
  fc.string({ unit: 'binary' }),
  fc.string(),
);

function checkResult(result: ReturnType<(typeof PARSERS)['native']['parse']>): void {
  if (result.ok) {
    assert.ok(result.event.time instanceof Date && !Number.isNaN(result.event.time.getTime()));
    return;
  }
  assert.ok(result.issues.length > 0, 'a refusal names at least one issue');
  for (const issue of result.issues) {
    assert.equal(typeof issue.path, 'string');
    assert.ok(issue.message.length > 0);
  }
}

describe('fuzzed input to every parser', () => {
  for (const format of EVENT_FORMATS) {
    test(`${RUNS} malformed or random payloads to the ${format} parser each get a result or issues, never a throw`, () => {
      const parser = PARSERS[format];
      fc.assert(fc.property(payload, (value) => {
        checkResult(parser.parse(value, new Date()));
        assert.ok(Array.isArray(parser.secretsIn(value)));
      }), { numRuns: RUNS, seed: SEED });
    });
  }
});

describe('fuzzed input to POST /v1/events', () => {
  let t: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(async () => {
    t = await startSeededApp('pglite');
    process.on('unhandledRejection', onUnhandled);
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await t?.close();
  });

  test(`${RUNS} malformed or random bodies each get a summary or a clear problem, never a crash`, async () => {
    const statuses = new Map<number, number>();
    const contentTypes = fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain');
    await fc.assert(fc.asyncProperty(text, contentTypes, async (body, contentType) => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events', headers: { ...t.auth('responder'), 'content-type': contentType }, payload: body });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode === 200 || res.statusCode === 400, `status ${res.statusCode}: ${res.body}`);
      const answer = res.json();
      if (res.statusCode === 400) {
        assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
        assert.match(answer.code, /^ERR_/);
        assert.ok(answer.detail.length > 0);
      } else {
        assert.equal(answer.received, answer.stored + answer.duplicates + answer.rejected);
        assert.equal(new Set(answer.errors.map((e: { record: number }) => e.record)).size, answer.rejected);
      }
    }), { numRuns: RUNS, seed: SEED });
    assert.deepEqual(unhandled, []);
    assert.equal(statuses.get(500), undefined);
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200, 'the server still answers');
  });
});
