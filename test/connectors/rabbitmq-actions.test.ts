import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import type { ConnectorSession } from '../../src/connectors/contract.js';
import { connectorType } from '../../src/connectors/registry.js';
import { assertNoSecret, closedPort, handler, isUnreachable, newSecret, silentServer, targetOf, uniqueName } from '../helpers/connectors.js';
import { skipUnless } from '../helpers/services.js';
import { loginRabbitmq as login } from '../helpers/logins.js';

const params = { host: '127.0.0.1', amqpPort: 5672, managementPort: 15672, vhost: '/', user: 'guest', password: 'guest', connectTimeoutMs: 3000 };
const skip = (await skipUnless('rabbitmq')) || (await skipUnless('rabbitmq-management'));

/** The management API as an operator (guest) uses it, behind Cordon's back. */
async function rabbit(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:15672/api${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return response.status === 200 ? response.json() : undefined;
}



describe('RabbitMQ connector actions against the real server', { skip }, () => {
  let session: ConnectorSession;
  const users: string[] = [];
  const rabbitUser = async (password: string) => {
    const name = uniqueName('cordon_t_user');
    users.push(name);
    await rabbit('PUT', `/users/${name}`, { password, tags: ['monitoring'] });
    await rabbit('PUT', `/permissions/%2F/${name}`, { configure: '^orders\\.', write: '^orders\\.', read: '^orders\\.' });
    return name;
  };

  before(() => {
    session = connectorType('rabbitmq').connect(params);
  });
  after(async () => {
    await session?.close();
    for (const name of users) await rabbit('DELETE', `/users/${name}`);
  });

  describe('rotate_credential', () => {
    const oldSecret = newSecret();
    const secret = newSecret();
    let name: string;
    const returned: unknown[] = [];
    before(async () => {
      name = await rabbitUser(oldSecret);
    });

    test('the plan names the password change and changes nothing', async () => {
      const plan = await handler(session, 'rotate_credential').plan(targetOf(name));
      returned.push(plan);
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['change_password', `user ${name}`]]);
      assert.equal(await login(name, oldSecret), 'ok');
    });

    test('execute sets the new password and verify proves it with an AMQP login', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(name), { idempotencyKey: 'k', newSecret: secret }));
      const verification = await rotate.verify(targetOf(name), { newSecret: secret });
      returned.push(verification);
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.equal(await login(name, secret), 'ok');
    });

    test('the old password is refused after rotation, and the user keeps its tags and permissions', async () => {
      assert.equal(await login(name, oldSecret), 'ACCESS_REFUSED');
      assert.deepEqual((await rabbit('GET', `/users/${name}`) as { tags: string[] }).tags, ['monitoring']);
      assert.deepEqual((await rabbit('GET', `/users/${name}/permissions`) as { read: string }[]).map((p) => p.read), ['^orders\\.']);
    });

    test('executing again leaves the same state and verify still passes', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(name), { idempotencyKey: 'k', newSecret: secret }));
      assert.equal((await rotate.verify(targetOf(name), { newSecret: secret })).verified, true);
      assert.equal(await login(name, oldSecret), 'ACCESS_REFUSED');
    });

    test('no secret appears in the plan, the results or the verifications', () => {
      assert.equal(returned.length, 4);
      assertNoSecret(returned, [secret, oldSecret]);
    });

    test('verification fails when the old password was set back behind Cordon\'s back', async () => {
      await rabbit('PUT', `/users/${name}`, { password: oldSecret, tags: ['monitoring'] });
      const verification = await handler(session, 'rotate_credential').verify(targetOf(name), { newSecret: secret });
      assert.equal(verification.verified, false);
      assert.equal(verification.checks.find((c) => c.name === 'new_secret_authenticates')?.passed, false);
    });
  });

  describe('revoke_sessions', () => {
    const secret = newSecret();
    let name: string;
    const connections: amqp.ChannelModel[] = [];
    const closed: Promise<Error | undefined>[] = [];
    const open = async () => {
      const connection = await amqp.connect({ hostname: '127.0.0.1', port: 5672, username: name, password: secret });
      // The broker closes these connections: that is the point, not an error of the test.
      connection.on('error', () => undefined);
      closed.push(new Promise((resolve) => connection.once('close', resolve)));
      connections.push(connection);
      return connection;
    };
    const tracked = async () => (await rabbit('GET', `/connections/username/${name}`) as { name: string }[]).map((c) => c.name).sort();
    before(async () => {
      name = await rabbitUser(secret);
      await open();
      await open();
    });
    after(async () => {
      for (const connection of connections) await connection.close().catch(() => undefined);
    });

    test('the plan lists each connection and closes none', async () => {
      const live = await tracked();
      assert.equal(live.length, 2);
      const plan = await handler(session, 'revoke_sessions').plan(targetOf(name));
      assert.deepEqual(plan.changes.map((c) => c.object).sort(), live.map((n) => `connection ${n}`));
      await (await connections[0]!.createChannel()).close();
    });

    test('execute closes every connection with a reason and verify finds none tracked', async () => {
      const revoke = handler(session, 'revoke_sessions');
      assert.equal((await revoke.execute(targetOf(name), { idempotencyKey: 'k' }) as { output: { closed: string[] } }).output.closed.length, 2);
      const [first] = await Promise.all(closed);
      assert.match(String(first?.message), /CONNECTION_FORCED - Closed by Cordon/);
      assert.deepEqual(await tracked(), []);
      const verification = await revoke.verify(targetOf(name), {});
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
    });

    test('executing again closes nothing and verify still passes', async () => {
      const revoke = handler(session, 'revoke_sessions');
      assert.deepEqual((await revoke.execute(targetOf(name), { idempotencyKey: 'k' })).output.closed, []);
      assert.equal((await revoke.verify(targetOf(name), {})).verified, true);
    });

    test('verification fails when the application connected again', async () => {
      await open();
      const [again] = await tracked();
      const verification = await handler(session, 'revoke_sessions').verify(targetOf(name), {});
      assert.equal(verification.verified, false);
      assert.ok(verification.checks[0]!.detail.endsWith(again!));
    });
  });

  describe('disable_identity and enable_identity', () => {
    const secret = newSecret();
    let name: string;
    before(async () => {
      name = await rabbitUser(secret);
    });

    test('the plan names the connection limit and the user still connects', async () => {
      const plan = await handler(session, 'disable_identity').plan(targetOf(name));
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['limit_connections_to_zero', `user ${name}`]]);
      assert.equal(await login(name, secret), 'ok');
    });

    test('execute blocks the user\'s connections and verify proves an AMQP login is refused', async () => {
      const disable = handler(session, 'disable_identity');
      const result = await disable.execute(targetOf(name), { idempotencyKey: 'k' });
      assert.equal(result.output.changed, true);
      const verification = await disable.verify(targetOf(name), { currentSecret: secret });
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.deepEqual(verification.checks.map((c) => c.name), ['connections_blocked', 'login_refused']);
      assert.equal(await login(name, secret), 'OPEN_REFUSED');
      assertNoSecret([result, verification], [secret]);
    });

    test('executing again changes nothing and verify still passes', async () => {
      const disable = handler(session, 'disable_identity');
      assert.equal((await disable.execute(targetOf(name), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await disable.plan(targetOf(name))).changes.length, 0);
      assert.equal((await disable.verify(targetOf(name), { currentSecret: secret })).verified, true);
    });

    test('verification fails when the limit was lifted behind Cordon\'s back', async () => {
      await rabbit('DELETE', `/user-limits/${name}/max-connections`);
      const verification = await handler(session, 'disable_identity').verify(targetOf(name), { currentSecret: secret });
      assert.equal(verification.verified, false);
      assert.deepEqual(verification.checks.map((c) => c.passed), [false, false]);
      await rabbit('PUT', `/user-limits/${name}/max-connections`, { value: 0 });
    });

    test('a wrong secret\'s refusal proves nothing', async () => {
      const verification = await handler(session, 'disable_identity').verify(targetOf(name), { currentSecret: 'not-its-password' });
      assert.equal(verification.verified, false);
      assert.equal(verification.checks.find((c) => c.name === 'login_refused')?.passed, false);
    });

    test('rollback of the disable lets the user connect again, and enable verifies it', async () => {
      await handler(session, 'disable_identity').rollback!(targetOf(name));
      assert.equal(await login(name, secret), 'ok');
      assert.equal((await handler(session, 'enable_identity').verify(targetOf(name), { currentSecret: secret })).verified, true);
    });

    test('enable_identity plans lifting the limit of a disabled user, executes once and is idempotent', async () => {
      await rabbit('PUT', `/user-limits/${name}/max-connections`, { value: 0 });
      const enable = handler(session, 'enable_identity');
      assert.deepEqual((await enable.plan(targetOf(name))).changes.map((c) => c.op), ['remove_connection_limit']);
      assert.equal(await login(name, secret), 'OPEN_REFUSED');
      assert.equal((await enable.execute(targetOf(name), { idempotencyKey: 'k' })).output.changed, true);
      assert.equal((await enable.execute(targetOf(name), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await enable.verify(targetOf(name), { currentSecret: secret })).verified, true);
    });
  });

  test('a user that does not exist is reported as not found, naming it and the server', async () => {
    await assert.rejects(handler(session, 'disable_identity').plan(targetOf('cordon_t_nobody')), (error: Error & { code?: string }) =>
      error.code === 'ERR_CONNECTOR_TARGET_NOT_FOUND' && /user "cordon_t_nobody" does not exist on RabbitMQ management API at http:\/\/127\.0\.0\.1:15672/.test(error.message));
  });
});

describe('RabbitMQ connector pointed at a server it cannot reach', () => {
  test('a refused connection fails as unreachable, naming the server', async () => {
    const port = await closedPort();
    const session = connectorType('rabbitmq').connect({ ...params, managementPort: port });
    await assert.rejects(handler(session, 'revoke_sessions').plan(targetOf('app')), isUnreachable(new RegExp(`RabbitMQ management API at http://127\\.0\\.0\\.1:${port}`)));
  });

  test('a server that never answers fails as unreachable after the connect timeout', { timeout: 10_000 }, async () => {
    const server = await silentServer();
    const session = connectorType('rabbitmq').connect({ ...params, managementPort: server.port, connectTimeoutMs: 300 });
    await assert.rejects(handler(session, 'disable_identity').execute(targetOf('app'), { idempotencyKey: 'k' }), isUnreachable(new RegExp(`127\\.0\\.0\\.1:${server.port}`)));
    await server.close();
  });

  test('an AMQP port that never answers fails a login proof as unreachable', { skip, timeout: 10_000 }, async () => {
    const server = await silentServer();
    const session = connectorType('rabbitmq').connect({ ...params, amqpPort: server.port, connectTimeoutMs: 300 });
    await assert.rejects(handler(session, 'rotate_credential').verify(targetOf('guest'), { newSecret: 'guest' }), isUnreachable(new RegExp(`RabbitMQ AMQP at 127\\.0\\.0\\.1:${server.port}`)));
    await server.close();
  });
});
