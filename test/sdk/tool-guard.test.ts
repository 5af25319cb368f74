import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GUARD_POLICY_ID } from '../../src/policy/guard.js';
import { guardTool, httpAuthorizer, ToolDeniedError, type ToolCallRecord } from '../../src/sdk/tool-guard.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

const TOOL_POLICIES = `
@id("refunds.create-small")
permit (principal == Cordon::AiAgent::"agent-refunds", action == Cordon::Action::"tool.call", resource == Cordon::Tool::"refunds.create")
when { context has input && context.input has amount && context.input.amount <= 500 };
@id("support.tools")
permit (principal == Cordon::AiAgent::"agent-support", action == Cordon::Action::"tool.call", resource in Cordon::Toolset::"support");
@id("no-export")
forbid (principal, action, resource == Cordon::Tool::"customers.export");
`;

describe('the SDK tool guard against a Cordon server', () => {
  let store: TestStore;
  let t: TestApp;
  let baseUrl: string;
  before(async () => {
    store = await openTestStore('pglite');
    await seedExampleInventory(store.db);
    t = await startTestApp(store);
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    // The shipped policies refuse high-risk tools at night: these tests must not depend on the hour.
    await t.context.policies.load({ ...(await t.context.policies.current()).input, policies: [{ name: 'tools.cedar', text: TOOL_POLICIES }] }, { id: 'test', subject: 'test' });
  });
  after(async () => {
    await t?.close();
  });

  /** A refund tool that counts its runs, guarded for the refund agent. */
  function refundTool(records: ToolCallRecord[]) {
    const runs: { amount: number }[] = [];
    const guarded = guardTool('refunds.create', (input: { amount: number; card: string }) => {
      runs.push({ amount: input.amount });
      return `refunded ${input.amount}`;
    }, {
      authorizer: httpAuthorizer({ baseUrl, token: t.tokens.workload }),
      principal: { type: 'Cordon::AiAgent', id: 'agent-refunds' },
      task: 'task-refund-1',
      context: (input) => ({ input: { amount: input.amount } }),
      onDecision: (record) => void records.push(record),
    });
    return { guarded, runs };
  }

  test('an allowed call runs the tool, and the decision is recorded on both sides', async () => {
    const records: ToolCallRecord[] = [];
    const { guarded, runs } = refundTool(records);
    assert.equal(await guarded({ amount: 120, card: '4111' }), 'refunded 120');
    assert.deepEqual(runs, [{ amount: 120 }]);
    assert.equal(records.length, 1);
    assert.deepEqual([records[0]!.decision, records[0]!.reasons, records[0]!.task], ['allow', ['refunds.create-small'], 'task-refund-1']);
    const [logged] = await t.context.decisions.list({ principal: 'agent-refunds', limit: 1 });
    assert.equal(logged!.id, records[0]!.decisionId);
    assert.deepEqual([logged!.resource.id, logged!.taskId, logged!.contextKeys], ['refunds.create', 'task-refund-1', ['input']]);
  });

  test('a denied call never reaches the tool and throws with the decision', async () => {
    const records: ToolCallRecord[] = [];
    const { guarded, runs } = refundTool(records);
    await assert.rejects(guarded({ amount: 900, card: '4111' }), (error: ToolDeniedError) => {
      assert.equal(error.code, 'ERR_TOOL_DENIED');
      assert.equal(error.record.decision, 'deny');
      return true;
    });
    assert.deepEqual(runs, []);
    assert.equal(records[0]!.decision, 'deny');
  });

  test('a quarantined agent is refused by the guard policy, whatever its tools allow', async () => {
    const records: ToolCallRecord[] = [];
    const { guarded, runs } = refundTool(records);
    await store.db.updateTable('identities').set({ status: 'quarantined' }).where('id', '=', 'agent-refunds').execute();
    try {
      await assert.rejects(guarded({ amount: 10, card: '4111' }), ToolDeniedError);
      assert.deepEqual(records[0]!.reasons, [GUARD_POLICY_ID]);
      assert.deepEqual(runs, []);
    } finally {
      await store.db.updateTable('identities').set({ status: 'active' }).where('id', '=', 'agent-refunds').execute();
    }
    assert.equal(await guarded({ amount: 10, card: '4111' }), 'refunded 10');
  });

  test('when the decision point cannot be asked, the tool does not run', async () => {
    const records: ToolCallRecord[] = [];
    let ran = false;
    const guarded = guardTool('tickets.read', () => {
      ran = true;
    }, {
      authorizer: httpAuthorizer({ baseUrl, token: 'cdn_not-a-token' }),
      principal: { type: 'Cordon::AiAgent', id: 'agent-support' },
      onDecision: (record) => void records.push(record),
    });
    await assert.rejects(guarded(undefined), (error: Error & { code: string }) => error.code === 'ERR_PDP_UNAVAILABLE' && /401 ERR_TOKEN_INVALID/.test(error.message));
    assert.equal(ran, false);
    assert.equal(records[0]!.decision, 'deny');
  });

  test('the in-process decision point guards a tool the same way', async () => {
    const guarded = guardTool('tickets.read', () => 'tickets', {
      authorizer: t.context.policies,
      principal: { type: 'Cordon::AiAgent', id: 'agent-support' },
    });
    assert.equal(await guarded(undefined), 'tickets');
    const export_ = guardTool('customers.export', () => 'all customers', { authorizer: t.context.policies, principal: { type: 'Cordon::AiAgent', id: 'agent-support' } });
    await assert.rejects(export_(undefined), /denied .* by no-export/);
  });
});
