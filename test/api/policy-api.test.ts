import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GUARD_POLICY_ID } from '../../src/policy/guard.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

const POLICY_DIR = new URL('../../policies/', import.meta.url).pathname;
const AGENTS = readFileSync(`${POLICY_DIR}agents.cedar`, 'utf8');

const supportReads = {
  principal: { type: 'Cordon::AiAgent', id: 'agent-support' },
  action: { type: 'Cordon::Action', id: 'tool.call' },
  resource: { type: 'Cordon::Tool', id: 'tickets.read' },
};

describe('policy API', () => {
  let store: TestStore;
  let t: TestApp;
  before(async () => {
    store = await openTestStore('pglite');
    await seedExampleInventory(store.db);
    t = await startTestApp(store);
  });
  after(async () => {
    await t?.close();
  });

  const authorize = (payload: unknown, role: 'workload' | 'admin' = 'workload') =>
    t.app.inject({ method: 'POST', url: '/v1/authorize', headers: t.auth(role), payload: payload as object });

  test('POST /v1/authorize answers with the decision, the policies that decided and the version', async () => {
    const res = await authorize(supportReads);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual([body.decision, body.reasons, body.errors, body.policyVersion], ['allow', ['agents.support.tools'], [], 1]);
    assert.match(body.decisionId, /^[0-9a-f-]{36}$/);
    const denied = await authorize({ ...supportReads, resource: { type: 'Cordon::Tool', id: 'customers.export' } }, 'admin');
    assert.equal(denied.json().decision, 'deny');
    // At night the working-hours forbid decides too: both are reasons then.
    assert.ok(denied.json().reasons.includes('agents.no-export-from-customer-facing'));
  });

  test('a malformed request gets problem+json naming each field', async () => {
    const res = await authorize({ principal: { type: 'Cordon::AiAgent' }, action: supportReads.action, resource: supportReads.resource, extra: 1 });
    assert.equal(res.statusCode, 400);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    assert.deepEqual(res.json().errors.map((e: { path: string; in: string }) => `${e.in}${e.path}`).sort(), ['body/extra', 'body/principal/id']);
    const typed = await authorize({ ...supportReads, context: { input: { amount: 1.5 } } });
    assert.equal(typed.statusCode, 400);
    assert.equal(typed.json().code, 'ERR_AUTHORIZE_INVALID');
    assert.deepEqual(typed.json().errors, [{ path: '/context/input/amount', message: 'must be an integer between -(2^53 - 1) and 2^53 - 1' }]);
    const action = await authorize({ ...supportReads, action: { type: 'Cordon::Action', id: 'resource.access' } });
    assert.equal(action.json().errors[0].path, '/action');
  });

  test('POST /v1/authorize/batch decides the good requests and reports each bad one by index', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/authorize/batch', headers: t.auth('workload'), payload: { requests: [supportReads, { principal: 3 }, { ...supportReads, resource: { type: 'Cordon::Tool', id: 'ledger.read' } }] } });
    assert.equal(res.statusCode, 200);
    const [first, second, third] = res.json().results;
    assert.deepEqual([first.index, first.decision], [0, 'allow']);
    assert.deepEqual([second.index, second.error.code], [1, 'ERR_AUTHORIZE_INVALID']);
    assert.deepEqual([third.index, third.decision, third.reasons], [2, 'deny', []]);
    const tooMany = await t.app.inject({ method: 'POST', url: '/v1/authorize/batch', headers: t.auth('workload'), payload: { requests: Array(101).fill(supportReads) } });
    assert.equal(tooMany.statusCode, 400);
  });

  test('a policy set with an error is refused naming the policy and position, and the serving set stays', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/policies', headers: t.auth('admin'), payload: {
      policies: [{ name: 'agents.cedar', text: AGENTS }, { name: 'extra.cedar', text: '@id("extra.bad")\npermit (principal, action, resource)\nwhen { resource.risk == "low" };' }],
    } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'ERR_POLICY_INVALID');
    // One error per action the policy could apply to, each at the same place.
    assert.deepEqual([...new Set(res.json().errors.map((e: { path: string; source: string }) => `${e.path} ${e.source}`))], ['/policies/extra.bad extra.cedar:3:8']);
    const current = await t.app.inject({ method: 'GET', url: '/v1/policies', headers: t.auth('admin') });
    assert.equal(current.json().version, 1);
    assert.equal((await authorize(supportReads)).json().policyVersion, 1);
  });

  test('a valid set becomes the next version at once, keeping the serving schema and entities', async () => {
    const checked = await t.app.inject({ method: 'POST', url: '/v1/policies/validate', headers: t.auth('admin'), payload: { policies: [{ name: 'only.cedar', text: '@id("support-read") permit (principal == Cordon::AiAgent::"agent-support", action, resource == Cordon::Tool::"tickets.read");' }] } });
    assert.equal(checked.statusCode, 200);
    assert.deepEqual(checked.json().policyIds, ['support-read', GUARD_POLICY_ID]);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/policies', headers: t.auth('admin') })).json().version, 1);

    const res = await t.app.inject({ method: 'POST', url: '/v1/policies', headers: t.auth('admin'), payload: { comment: 'narrow support', policies: [{ name: 'only.cedar', text: '@id("support-read") permit (principal == Cordon::AiAgent::"agent-support", action, resource == Cordon::Tool::"tickets.read");' }] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual([res.json().version, res.json().changed], [2, true]);
    assert.deepEqual((await authorize(supportReads)).json().reasons, ['support-read']);

    const versions = await t.app.inject({ method: 'GET', url: '/v1/policies/versions', headers: t.auth('admin') });
    assert.deepEqual(versions.json().items.map((v: { version: number; origin: string }) => [v.version, v.origin]), [[2, 'api'], [1, 'files']]);
    const v2 = await t.app.inject({ method: 'GET', url: '/v1/policies/versions/2', headers: t.auth('admin') });
    assert.equal(v2.json().schema.name, 'cordon.cedarschema');
    assert.equal(v2.json().entities.name, 'entities.json');
    assert.equal(v2.json().comment, 'narrow support');
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/policies/versions/9', headers: t.auth('admin') })).statusCode, 404);

    const reload = await t.app.inject({ method: 'POST', url: '/v1/policies/reload', headers: t.auth('admin') });
    assert.deepEqual([reload.json().version, reload.json().changed], [3, true]);
    assert.deepEqual((await authorize(supportReads)).json().reasons, ['agents.support.tools']);
  });

  test('readers list the decision log, newest first, filtered by principal and decision', async () => {
    await authorize({ ...supportReads, resource: { type: 'Cordon::Tool', id: 'ledger.read' } });
    const res = await t.app.inject({ method: 'GET', url: '/v1/policies/decisions?principal=agent-support&decision=deny&limit=1', headers: t.auth('viewer') });
    assert.equal(res.statusCode, 200);
    const [entry] = res.json().items;
    assert.deepEqual([entry.principal.id, entry.resource.id, entry.decision, entry.action], ['agent-support', 'ledger.read', 'deny', 'tool.call']);
    assert.match(entry.caller, /^token:/);
    assert.equal(typeof res.json().nextBefore, 'number');
    const next = await t.app.inject({ method: 'GET', url: `/v1/policies/decisions?principal=agent-support&decision=deny&before=${res.json().nextBefore}`, headers: t.auth('viewer') });
    assert.ok(next.json().items.every((e: { seq: number }) => e.seq < entry.seq));
  });

  test('the policy routes admit the roles the issue names', () => {
    const roles = (method: string, url: string) => t.app.guardedRoutes.find((r) => r.method === method && r.url === url)!.roles;
    assert.deepEqual(roles('POST', '/v1/authorize'), ['workload', 'admin']);
    assert.deepEqual(roles('POST', '/v1/authorize/batch'), ['workload', 'admin']);
    assert.deepEqual(roles('POST', '/v1/policies'), ['admin']);
    assert.deepEqual(roles('GET', '/v1/policies/versions'), ['admin']);
    assert.deepEqual(roles('GET', '/v1/policies/decisions'), ['viewer', 'responder', 'approver', 'admin']);
  });
});
