import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectorType } from '../../src/connectors/registry.js';
import { handler, newSecret, targetOf, uniqueName } from '../helpers/connectors.js';

describe('the simulated connector (demo only)', () => {
  const session = connectorType('simulated').connect({ system: 'postgres', sessionsPerAccount: 2 });

  test('rotation is proven against its own state, and says it is simulated', async () => {
    const target = targetOf(uniqueName('acct'));
    const rotate = handler(session, 'rotate_credential');
    const secret = newSecret();
    const before = await rotate.verify(target, { newSecret: secret });
    assert.equal(before.verified, false, 'nothing set yet');
    await rotate.execute(target, { idempotencyKey: 'k', newSecret: secret });
    const after = await rotate.verify(target, { newSecret: secret });
    assert.equal(after.verified, true);
    assert.ok(after.checks.every((c) => c.detail.startsWith('SIMULATED')));
    assert.equal((await rotate.verify(target, { newSecret: newSecret() })).verified, false, 'another secret is not the one set');
  });

  test('sessions end and accounts are disabled and enabled again, each plan marked simulated', async () => {
    const target = targetOf(uniqueName('acct'));
    const revoke = handler(session, 'revoke_sessions');
    assert.equal((await revoke.plan(target)).changes.length, 2);
    assert.equal((await revoke.verify(target, {})).verified, false);
    await revoke.execute(target, { idempotencyKey: 'k' });
    assert.equal((await revoke.verify(target, {})).verified, true);
    const disable = handler(session, 'disable_identity');
    const plan = await disable.plan(target);
    assert.match(plan.changes[0]!.detail, /^SIMULATED/);
    await disable.execute(target, { idempotencyKey: 'k' });
    assert.equal((await disable.verify(target, {})).verified, true);
    await disable.rollback!(target);
    assert.equal((await handler(session, 'enable_identity').verify(target, {})).verified, true);
  });
});
