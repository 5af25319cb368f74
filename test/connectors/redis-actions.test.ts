import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { ConnectorSession } from '../../src/connectors/contract.js';
import { passwordHash } from '../../src/connectors/redis/users.js';
import { connectorType } from '../../src/connectors/registry.js';
import { assertNoSecret, closedPort, handler, isUnreachable, newSecret, silentServer, targetOf, uniqueName } from '../helpers/connectors.js';
import { skipUnless } from '../helpers/services.js';
import { loginRedis as login } from '../helpers/logins.js';

const params = { host: '127.0.0.1', port: 6379, connectTimeoutMs: 3000 };

async function redisAt(port: number, username?: string, password?: string): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port, username, password, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  // The server closes these clients on purpose in some tests.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function admin<T>(command: string, ...args: string[]): Promise<T> {
  const client = await redisAt(6379);
  try {
    return await client.call(command, ...args) as T;
  } finally {
    client.disconnect();
  }
}



describe('Redis connector actions against the real server', { skip: await skipUnless('redis') }, () => {
  let session: ConnectorSession;
  const users: string[] = [];
  const aclUser = async (password: string) => {
    const name = uniqueName('cordon_t_user');
    users.push(name);
    await admin('ACL', 'SETUSER', name, 'on', `>${password}`, '~session:*', '+@read', '+@write', '+@connection');
    return name;
  };

  before(() => {
    session = connectorType('redis').connect(params);
  });
  after(async () => {
    await session?.close();
    if (users.length) await admin('ACL', 'DELUSER', ...users);
  });

  describe('rotate_credential', () => {
    const oldSecret = newSecret();
    const secret = newSecret();
    let name: string;
    const returned: unknown[] = [];
    before(async () => {
      name = await aclUser(oldSecret);
      // A second password the application might also use: rotation must remove it too.
      await admin('ACL', 'SETUSER', name, '>another-old-password');
    });

    test('the plan names the password reset and changes nothing', async () => {
      const plan = await handler(session, 'rotate_credential').plan(targetOf(name));
      returned.push(plan);
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['reset_passwords', `ACL user ${name}`]]);
      assert.match(plan.changes[0]!.detail, /2 current password/);
      assert.equal(await login(name, oldSecret), 'OK');
    });

    test('execute leaves the new password as the only one and verify proves it with AUTH', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(name), { idempotencyKey: 'k', newSecret: secret }));
      const verification = await rotate.verify(targetOf(name), { newSecret: secret });
      returned.push(verification);
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.deepEqual((await admin<unknown[]>('ACL', 'GETUSER', name))[3], [passwordHash(secret)]);
      assert.equal(await login(name, secret), 'OK');
    });

    test('every old password is refused after rotation', async () => {
      assert.equal(await login(name, oldSecret), 'WRONGPASS');
      assert.equal(await login(name, 'another-old-password'), 'WRONGPASS');
    });

    test('executing again leaves the same state and verify still passes', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(name), { idempotencyKey: 'k', newSecret: secret }));
      assert.equal((await rotate.verify(targetOf(name), { newSecret: secret })).verified, true);
      assert.deepEqual((await admin<unknown[]>('ACL', 'GETUSER', name))[3], [passwordHash(secret)]);
    });

    test('no secret appears in the plan, the results or the verifications', () => {
      assert.equal(returned.length, 4);
      assertNoSecret(returned, [secret, oldSecret, passwordHash(secret)]);
    });

    test('verification fails when the old password was added back behind Cordon\'s back', async () => {
      await admin('ACL', 'SETUSER', name, `>${oldSecret}`);
      const verification = await handler(session, 'rotate_credential').verify(targetOf(name), { newSecret: secret });
      assert.equal(verification.verified, false);
      assert.deepEqual(verification.checks.map((c) => [c.name, c.passed]), [['new_secret_authenticates', true], ['only_new_secret_remains', false]]);
    });
  });

  describe('revoke_sessions', () => {
    const secret = newSecret();
    let name: string;
    const clients: Redis[] = [];
    const open = async () => {
      const client = await redisAt(6379, name, secret);
      clients.push(client);
      return client;
    };
    const ids = async () => String(await admin('CLIENT', 'LIST')).split('\n').filter((l) => l.includes(` user=${name} `)).map((l) => /^id=(\d+)/.exec(l)![1]!);
    before(async () => {
      name = await aclUser(secret);
      await open();
      await open();
    });
    after(() => {
      for (const client of clients) client.disconnect();
    });

    test('the plan lists each client and closes none', async () => {
      const live = await ids();
      assert.equal(live.length, 2);
      const plan = await handler(session, 'revoke_sessions').plan(targetOf(name));
      assert.deepEqual(plan.changes.map((c) => c.object).sort(), live.map((id) => `client id ${id}`).sort());
      assert.equal(await clients[0]!.ping(), 'PONG');
    });

    test('execute kills every client and verify reads CLIENT LIST without them', async () => {
      const revoke = handler(session, 'revoke_sessions');
      assert.equal((await revoke.execute(targetOf(name), { idempotencyKey: 'k' })).output.killed, 2);
      assert.deepEqual(await ids(), []);
      const verification = await revoke.verify(targetOf(name), {});
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      await assert.rejects(clients[0]!.ping());
    });

    test('executing again kills nothing and verify still passes', async () => {
      const revoke = handler(session, 'revoke_sessions');
      assert.equal((await revoke.execute(targetOf(name), { idempotencyKey: 'k' })).output.killed, 0);
      assert.equal((await revoke.verify(targetOf(name), {})).verified, true);
    });

    test('verification fails when the application connected again', async () => {
      const again = await open();
      const id = String(await again.call('CLIENT', 'ID'));
      const verification = await handler(session, 'revoke_sessions').verify(targetOf(name), {});
      assert.equal(verification.verified, false);
      assert.match(verification.checks[0]!.detail, new RegExp(`id ${id}$`));
    });
  });

  describe('disable_identity and enable_identity', () => {
    const secret = newSecret();
    let name: string;
    before(async () => {
      name = await aclUser(secret);
    });

    test('the plan names the user off and AUTH still works', async () => {
      const plan = await handler(session, 'disable_identity').plan(targetOf(name));
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['user_off', `ACL user ${name}`]]);
      assert.equal(await login(name, secret), 'OK');
    });

    test('execute turns the user off and verify proves AUTH with its password is refused', async () => {
      const disable = handler(session, 'disable_identity');
      const result = await disable.execute(targetOf(name), { idempotencyKey: 'k' });
      assert.equal(result.output.changed, true);
      const verification = await disable.verify(targetOf(name), { currentSecret: secret });
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.deepEqual(verification.checks.map((c) => c.name), ['user_off', 'login_refused']);
      assert.equal(await login(name, secret), 'WRONGPASS');
      assertNoSecret([result, verification], [secret]);
    });

    test('executing again changes nothing and verify still passes', async () => {
      const disable = handler(session, 'disable_identity');
      assert.equal((await disable.execute(targetOf(name), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await disable.plan(targetOf(name))).changes.length, 0);
      assert.equal((await disable.verify(targetOf(name), { currentSecret: secret })).verified, true);
    });

    test('a refusal of a secret that is not the user\'s proves nothing', async () => {
      const verification = await handler(session, 'disable_identity').verify(targetOf(name), { currentSecret: 'not-its-password' });
      assert.equal(verification.verified, false);
      assert.equal(verification.checks.find((c) => c.name === 'login_refused')?.passed, false);
    });

    test('verification fails when the user was turned on behind Cordon\'s back', async () => {
      await admin('ACL', 'SETUSER', name, 'on');
      const verification = await handler(session, 'disable_identity').verify(targetOf(name), { currentSecret: secret });
      assert.equal(verification.verified, false);
      assert.deepEqual(verification.checks.map((c) => c.passed), [false, false]);
      await admin('ACL', 'SETUSER', name, 'off');
    });

    test('rollback of the disable lets the user AUTH again, and enable verifies it', async () => {
      await handler(session, 'disable_identity').rollback!(targetOf(name));
      assert.equal(await login(name, secret), 'OK');
      assert.equal((await handler(session, 'enable_identity').verify(targetOf(name), { currentSecret: secret })).verified, true);
    });

    test('enable_identity plans turning an off user on, executes once and is idempotent', async () => {
      await admin('ACL', 'SETUSER', name, 'off');
      const enable = handler(session, 'enable_identity');
      assert.deepEqual((await enable.plan(targetOf(name))).changes.map((c) => c.op), ['user_on']);
      assert.equal(await login(name, secret), 'WRONGPASS');
      assert.equal((await enable.execute(targetOf(name), { idempotencyKey: 'k' })).output.changed, true);
      assert.equal((await enable.execute(targetOf(name), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await enable.verify(targetOf(name), { currentSecret: secret })).verified, true);
    });
  });

  test('a user that does not exist is reported as not found, naming it and the server', async () => {
    await assert.rejects(handler(session, 'revoke_sessions').execute(targetOf('cordon_t_nobody'), { idempotencyKey: 'k' }), (error: Error & { code?: string }) =>
      error.code === 'ERR_CONNECTOR_TARGET_NOT_FOUND' && /ACL user "cordon_t_nobody" does not exist on Redis at 127\.0\.0\.1:6379/.test(error.message));
  });
});

describe('Redis connector errors', { skip: await skipUnless('redis') }, () => {
  const restricted = uniqueName('cordon_t_connector');
  const restrictedPassword = newSecret();
  const app = uniqueName('cordon_t_user');
  before(async () => {
    await admin('ACL', 'SETUSER', restricted, 'on', `>${restrictedPassword}`, '+acl|getuser', '+client|id');
    await admin('ACL', 'SETUSER', app, 'on', '>app-password');
  });
  after(async () => {
    await admin('ACL', 'DELUSER', restricted, app);
  });

  test('a change the server refuses fails as a connector failure that carries no secret', async () => {
    const session = connectorType('redis').connect({ ...params, username: restricted, password: restrictedPassword });
    const secret = newSecret();
    const error = await handler(session, 'rotate_credential').execute(targetOf(app), { idempotencyKey: 'k', newSecret: secret }).catch((e: Error) => e);
    await session.close();
    assert.equal((error as { code?: string }).code, 'ERR_CONNECTOR_FAILED');
    assert.match(String(error), /NOPERM/);
    const shown = inspect(error, { depth: 10, showHidden: true });
    for (const value of [secret, passwordHash(secret), restrictedPassword]) assert.ok(!shown.includes(value), 'the error shows a secret');
  });

  test('a connector whose own password is wrong fails without showing it', async () => {
    const wrong = newSecret();
    const session = connectorType('redis').connect({ ...params, username: restricted, password: wrong });
    const error = await handler(session, 'disable_identity').plan(targetOf(app)).catch((e: Error) => e);
    assert.equal((error as { code?: string }).code, 'ERR_CONNECTOR_UNREACHABLE');
    assert.match(String(error), /WRONGPASS/);
    assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(wrong), 'the error shows the connector\'s password');
  });
});

describe('Redis connector on a server that keeps its users in an ACL file', { skip: await skipUnless('redis') }, () => {
  let dir: string;
  let server: ChildProcess;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-redis-'));
    await writeFile(join(dir, 'users.acl'), 'user default on nopass ~* &* +@all\nuser app on >old-app-password ~* +@all\n');
    port = await closedPort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--aclfile', join(dir, 'users.acl'), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) server.emit('ready');
    });
    await once(server, 'ready');
  });
  after(async () => {
    if (server && server.exitCode === null) {
      server.kill();
      await once(server, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('a rotation is saved to the server\'s ACL file, so a restart keeps it', async () => {
    const session = connectorType('redis').connect({ ...params, port });
    const secret = newSecret();
    await handler(session, 'rotate_credential').execute(targetOf('app'), { idempotencyKey: 'k', newSecret: secret });
    await session.close();
    const saved = await readFile(join(dir, 'users.acl'), 'utf8');
    assert.match(saved, new RegExp(`^user app on #${passwordHash(secret)} `, 'm'));
    assert.ok(!saved.includes('old-app-password') && !saved.includes(secret));
  });
});

describe('Redis connector pointed at a server it cannot reach', () => {
  test('a refused connection fails as unreachable, naming the server', async () => {
    const port = await closedPort();
    const session = connectorType('redis').connect({ ...params, port });
    await assert.rejects(handler(session, 'revoke_sessions').plan(targetOf('app')), isUnreachable(new RegExp(`Redis at 127\\.0\\.0\\.1:${port}`)));
    await session.close();
  });

  test('a server that never answers fails as unreachable after the connect timeout', { timeout: 10_000 }, async () => {
    const server = await silentServer();
    const session = connectorType('redis').connect({ ...params, port: server.port, connectTimeoutMs: 300 });
    await assert.rejects(handler(session, 'disable_identity').execute(targetOf('app'), { idempotencyKey: 'k' }), isUnreachable(new RegExp(`127\\.0\\.0\\.1:${server.port}`)));
    await session.close();
    await server.close();
  });
});
