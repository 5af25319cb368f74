import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import type { ConnectorSession } from '../../src/connectors/contract.js';
import { connectorType } from '../../src/connectors/registry.js';
import { assertNoSecret, closedPort, handler, isUnreachable, newSecret, silentServer, targetOf, uniqueName } from '../helpers/connectors.js';
import { skipUnless } from '../helpers/services.js';
import { loginMariadb as login } from '../helpers/logins.js';
import { mariadbRoot as rootQuery } from '../helpers/logins.js';

const params = { host: '127.0.0.1', port: 3306, user: 'root', connectTimeoutMs: 3000 };





describe('MariaDB connector actions against the real server', { skip: await skipUnless('mariadb') }, () => {
  let session: ConnectorSession;
  const users: string[] = [];
  const account = async (password: string) => {
    const user = uniqueName('cordon_t_acct');
    users.push(user);
    await rootQuery('create user ?@? identified by ?', [user, '%', password]);
    return user;
  };

  before(() => {
    session = connectorType('mariadb').connect(params);
  });
  after(async () => {
    await session?.close();
    for (const user of users) await rootQuery('drop user if exists ?@?', [user, '%']);
  });

  describe('rotate_credential', () => {
    const oldSecret = newSecret();
    const secret = newSecret();
    let user: string;
    const returned: unknown[] = [];
    before(async () => {
      user = await account(oldSecret);
    });

    test('the plan names the password change and changes nothing', async () => {
      const plan = await handler(session, 'rotate_credential').plan(targetOf(`${user}@%`));
      returned.push(plan);
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['alter_password', `account '${user}'@'%'`]]);
      assert.equal(await login(user, oldSecret), 'ok');
    });

    test('execute sets the new password and verify proves it with a login', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(`${user}@%`), { idempotencyKey: 'k', newSecret: secret }));
      const verification = await rotate.verify(targetOf(`${user}@%`), { newSecret: secret });
      returned.push(verification);
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.equal(await login(user, secret), 'ok');
    });

    test('the old password is refused after rotation', async () => {
      assert.equal(await login(user, oldSecret), 1045);
    });

    test('executing again leaves the same state and verify still passes', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(`${user}@%`), { idempotencyKey: 'k', newSecret: secret }));
      assert.equal((await rotate.verify(targetOf(`${user}@%`), { newSecret: secret })).verified, true);
      assert.equal(await login(user, oldSecret), 1045);
    });

    test('no secret appears in the plan, the results or the verifications', () => {
      assert.equal(returned.length, 4);
      assertNoSecret(returned, [secret, oldSecret]);
    });

    test('verification fails when the old password was set back behind Cordon\'s back', async () => {
      await rootQuery('alter user ?@? identified by ?', [user, '%', oldSecret]);
      const verification = await handler(session, 'rotate_credential').verify(targetOf(`${user}@%`), { newSecret: secret });
      assert.equal(verification.verified, false);
      assert.equal(verification.checks.find((c) => c.name === 'new_secret_authenticates')?.passed, false);
    });
  });

  describe('revoke_sessions', () => {
    const secret = newSecret();
    let user: string;
    const connections: mysql.Connection[] = [];
    const open = async () => {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password: secret });
      // The server kills these connections: that is the point, not an error of the test.
      connection.on('error', () => undefined);
      connections.push(connection);
      return connection;
    };
    const ids = async () => (await rootQuery('select ID from information_schema.PROCESSLIST where USER = ? order by ID', [user])).map((r) => r.ID as number);
    before(async () => {
      user = await account(secret);
      await open();
      await open();
    });
    after(async () => {
      for (const connection of connections) connection.destroy();
    });

    test('the plan lists each connection and kills none', async () => {
      const live = await ids();
      assert.equal(live.length, 2);
      const plan = await handler(session, 'revoke_sessions').plan(targetOf(`${user}@%`));
      assert.deepEqual(plan.changes.map((c) => c.object), live.map((id) => `connection ${id}`));
      assert.deepEqual(await ids(), live);
      await connections[0]!.query('select 1');
    });

    test('execute kills every connection and verify reads PROCESSLIST without them', async () => {
      const live = await ids();
      const revoke = handler(session, 'revoke_sessions');
      assert.deepEqual((await revoke.execute(targetOf(`${user}@%`), { idempotencyKey: 'k' })).output.killed, live);
      assert.deepEqual(await ids(), []);
      const verification = await revoke.verify(targetOf(`${user}@%`), {});
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      await assert.rejects(connections[0]!.query('select 1'));
    });

    test('executing again kills nothing and verify still passes', async () => {
      const revoke = handler(session, 'revoke_sessions');
      assert.deepEqual((await revoke.execute(targetOf(`${user}@%`), { idempotencyKey: 'k' })).output.killed, []);
      assert.equal((await revoke.verify(targetOf(`${user}@%`), {})).verified, true);
    });

    test('verification fails when the application connected again', async () => {
      const again = await open();
      const [rows] = await again.query<mysql.RowDataPacket[]>('select connection_id() as id');
      const id = rows[0]!.id as number;
      const verification = await handler(session, 'revoke_sessions').verify(targetOf(`${user}@%`), {});
      assert.equal(verification.verified, false);
      assert.match(verification.checks[0]!.detail, new RegExp(`: ${id}$`));
    });
  });

  test('connections of another account with the same user name are left alone', async () => {
    const secret = newSecret();
    const user = await account(secret);
    await rootQuery('create user ?@? identified by ?', [user, '127.0.0.1', secret]);
    try {
      // MariaDB authenticates a client from 127.0.0.1 as the more specific account.
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password: secret });
      const [rows] = await connection.query<mysql.RowDataPacket[]>('select current_user() as account');
      assert.equal(rows[0]!.account, `${user}@127.0.0.1`);
      assert.deepEqual((await handler(session, 'revoke_sessions').plan(targetOf(`${user}@%`))).changes, []);
      assert.equal((await handler(session, 'revoke_sessions').plan(targetOf(`${user}@127.0.0.1`))).changes.length, 1);
      await connection.end();
    } finally {
      await rootQuery('drop user ?@?', [user, '127.0.0.1']);
    }
  });

  describe('disable_identity and enable_identity', () => {
    const secret = newSecret();
    let user: string;
    before(async () => {
      user = await account(secret);
    });

    test('the plan names the account lock and the account still logs in', async () => {
      const plan = await handler(session, 'disable_identity').plan(targetOf(`${user}@%`));
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['lock_account', `account '${user}'@'%'`]]);
      assert.equal(await login(user, secret), 'ok');
    });

    test('execute locks the account and verify proves a login with its password is refused', async () => {
      const disable = handler(session, 'disable_identity');
      const result = await disable.execute(targetOf(`${user}@%`), { idempotencyKey: 'k' });
      assert.equal(result.output.changed, true);
      const verification = await disable.verify(targetOf(`${user}@%`), { currentSecret: secret });
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.deepEqual(verification.checks.map((c) => c.name), ['account_locked', 'login_refused']);
      assert.equal(await login(user, secret), 4151);
      assertNoSecret([result, verification], [secret]);
    });

    test('executing again changes nothing and verify still passes', async () => {
      const disable = handler(session, 'disable_identity');
      assert.equal((await disable.execute(targetOf(`${user}@%`), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await disable.plan(targetOf(`${user}@%`))).changes.length, 0);
      assert.equal((await disable.verify(targetOf(`${user}@%`), { currentSecret: secret })).verified, true);
    });

    test('verification fails when the account was unlocked behind Cordon\'s back', async () => {
      await rootQuery('alter user ?@? account unlock', [user, '%']);
      const verification = await handler(session, 'disable_identity').verify(targetOf(`${user}@%`), { currentSecret: secret });
      assert.equal(verification.verified, false);
      assert.deepEqual(verification.checks.map((c) => c.passed), [false, false]);
      await rootQuery('alter user ?@? account lock', [user, '%']);
    });

    test('rollback of the lock lets the account log in again, and enable verifies it', async () => {
      await handler(session, 'disable_identity').rollback!(targetOf(`${user}@%`));
      assert.equal(await login(user, secret), 'ok');
      assert.equal((await handler(session, 'enable_identity').verify(targetOf(`${user}@%`), { currentSecret: secret })).verified, true);
    });

    test('enable_identity plans the unlock of a locked account, executes once and is idempotent', async () => {
      await rootQuery('alter user ?@? account lock', [user, '%']);
      const enable = handler(session, 'enable_identity');
      assert.deepEqual((await enable.plan(targetOf(`${user}@%`))).changes.map((c) => c.op), ['unlock_account']);
      assert.equal(await login(user, secret), 4151);
      assert.equal((await enable.execute(targetOf(`${user}@%`), { idempotencyKey: 'k' })).output.changed, true);
      assert.equal((await enable.execute(targetOf(`${user}@%`), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await enable.verify(targetOf(`${user}@%`), { currentSecret: secret })).verified, true);
    });
  });

  test('an account that does not exist is reported as not found, naming it and the server', async () => {
    await assert.rejects(handler(session, 'disable_identity').plan(targetOf('cordon_t_nobody@%')), (error: Error & { code?: string }) =>
      error.code === 'ERR_CONNECTOR_TARGET_NOT_FOUND' && /account 'cordon_t_nobody'@'%' does not exist on MariaDB at 127\.0\.0\.1:3306/.test(error.message));
  });

  test('an external ref without a host is refused, naming the field', async () => {
    await assert.rejects(handler(session, 'disable_identity').plan(targetOf('orders_api')), { code: 'ERR_ACTION_TARGET', issues: [{ path: '/identity/externalRef', message: 'must be user@host (got "orders_api")' }] });
  });
});

describe('MariaDB connector pointed at a server it cannot reach', () => {
  test('a refused connection fails as unreachable, naming the server', async () => {
    const port = await closedPort();
    const session = connectorType('mariadb').connect({ ...params, port });
    await assert.rejects(handler(session, 'revoke_sessions').plan(targetOf('app@%')), isUnreachable(new RegExp(`MariaDB at 127\\.0\\.0\\.1:${port}`)));
    await session.close();
  });

  test('a server that never answers fails as unreachable after the connect timeout', { timeout: 10_000 }, async () => {
    const server = await silentServer();
    const session = connectorType('mariadb').connect({ ...params, port: server.port, connectTimeoutMs: 300 });
    await assert.rejects(handler(session, 'disable_identity').execute(targetOf('app@%'), { idempotencyKey: 'k' }), isUnreachable(new RegExp(`127\\.0\\.0\\.1:${server.port}`)));
    await session.close();
    await server.close();
  });
});
