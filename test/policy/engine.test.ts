import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { policyToJson, type EntityJson } from '../../src/policy/cedar.js';
import { DecisionEngine, type EngineRequest } from '../../src/policy/engine.js';

function engine(policies: Record<string, string>, entities: EntityJson[] = []): DecisionEngine {
  return new DecisionEngine(Object.entries(policies).map(([id, text]) => {
    const answer = policyToJson(text);
    if (answer.type !== 'success') assert.fail(`${id} does not parse`);
    return { id, text, json: answer.json };
  }), entities);
}

const request = (over: Partial<EngineRequest> = {}): EngineRequest => ({
  principal: { type: 'Cordon::AiAgent', id: 'a1' },
  action: { type: 'Cordon::Action', id: 'tool.call' },
  resource: { type: 'Cordon::Tool', id: 'search' },
  context: {},
  ...over,
});

describe('the decision engine', () => {
  test('a request no policy is scoped to is denied by default without crossing into Cedar', () => {
    const e = engine({ other: 'permit (principal == Cordon::AiAgent::"a2", action, resource);' });
    assert.deepEqual(e.decide(request()), { decision: 'deny', reasons: [], errors: [] });
    assert.equal(e.stats.cedarCalls, 0);
  });

  test('a satisfied forbid wins over satisfied permits and is the only reason', () => {
    const e = engine({
      p1: 'permit (principal, action, resource);',
      p2: 'permit (principal == Cordon::AiAgent::"a1", action, resource);',
      f: 'forbid (principal, action == Cordon::Action::"tool.call", resource) when { context.night };',
    });
    assert.deepEqual(e.decide(request({ context: { night: false } })).reasons, ['p1', 'p2']);
    assert.deepEqual(e.decide(request({ context: { night: true } })), { decision: 'deny', reasons: ['f'], errors: [] });
  });

  test('scope `in` follows the entity hierarchy through every ancestor', () => {
    const e = engine({ team: 'permit (principal in Cordon::Team::"org", action, resource in Cordon::Toolset::"all");' }, [
      { uid: { type: 'Cordon::Team', id: 'ml' }, attrs: {}, parents: [{ type: 'Cordon::Team', id: 'org' }] },
      { uid: { type: 'Cordon::Tool', id: 'search' }, attrs: {}, parents: [{ type: 'Cordon::Toolset', id: 'all' }] },
    ]);
    const member = { uid: { type: 'Cordon::AiAgent', id: 'a1' }, attrs: {}, parents: [{ type: 'Cordon::Team', id: 'ml' }] };
    assert.equal(e.decide(request({ entities: [member] })).decision, 'allow');
    assert.equal(e.decide(request()).decision, 'deny');
  });

  test('a policy that errors does not apply and is reported, as Cedar does', () => {
    const e = engine({ f: 'forbid (principal, action, resource) when { context.amount > 100 };', p: 'permit (principal, action, resource);' });
    const decision = e.decide(request({ context: { amount: 'lots' } }));
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.errors.map((x) => x.policyId), ['f']);
  });

  test('a policy with an extension function is evaluated by Cedar, the rest in process', () => {
    const e = engine({
      ip: 'permit (principal, action, resource) when { ip("10.0.0.1").isInRange(ip("10.0.0.0/8")) };',
      plain: 'permit (principal == Cordon::AiAgent::"a2", action, resource);',
    });
    assert.deepEqual(e.decide(request()).reasons, ['ip']);
    assert.equal(e.stats.cedarCalls, 1);
    assert.equal(e.decide(request({ principal: { type: 'Cordon::AiAgent', id: 'a3' } })).decision, 'allow');
    assert.equal(e.stats.cedarCalls, 2);
  });

  test('a value the compiled evaluator cannot represent sends the whole request to Cedar', () => {
    const e = engine({ big: 'permit (principal, action, resource) when { context.n * 1000 > 0 };' });
    assert.equal(e.decide(request({ context: { n: 2 ** 50 } })).decision, 'allow');
    assert.equal(e.stats.fallbacks, 1);
    assert.equal(e.decide(request({ context: { n: 5 } })).decision, 'allow');
    assert.equal(e.stats.fallbacks, 1);
  });

  test('a policy scoped to a list of actions is counted once when the action is in both', () => {
    const e = engine({ both: 'permit (principal, action in [Cordon::Action::"tools", Cordon::Action::"tool.call"], resource);' }, [
      { uid: { type: 'Cordon::Action', id: 'tool.call' }, attrs: {}, parents: [{ type: 'Cordon::Action', id: 'tools' }] },
    ]);
    assert.deepEqual(e.decide(request()).reasons, ['both']);
  });
});
