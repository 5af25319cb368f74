import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { ConnectorSession } from '../../src/connectors/contract.js';
import { connectorType } from '../../src/connectors/registry.js';
import { assertNoSecret, closedPort, handler, isUnreachable, newSecret, silentServer, targetOf, uniqueName } from '../helpers/connectors.js';
import { PASSWORD_AUTH_GROUP, passwordAuthSkip } from '../helpers/password-auth.js';
import { skipUnless } from '../helpers/services.js';
import { adminQuery } from '../helpers/store.js';
import { loginPostgres } from '../helpers/logins.js';

const database = uniqueName('cordon_t_act');
const params = { host: '127.0.0.1', port: 5432, database, user: 'postgres', connectTimeoutMs: 3000 };
const skip = (await skipUnless('postgres')) || (await passwordAuthSkip());

/** Logs in as the role the way its application would; resolves to the SQLSTATE of a refusal. */
const login = (role: string, password: string) => loginPostgres(database, role, password);

async function createRole(password: string, group = true): Promise<string> {
  const role = uniqueName('cordon_t_role');
  await adminQuery(`create role ${role} login password '${password}'${group ? ` in role ${PASSWORD_AUTH_GROUP}` : ''}`);
  return role;
}

describe('PostgreSQL connector actions against the real server', { skip }, () => {
  let session: ConnectorSession;
  const roles: string[] = [];
  const role = async (password: string, group = true) => {
    const name = await createRole(password, group);
    roles.push(name);
    return name;
  };

  before(async () => {
    await adminQuery(`create database ${database}`);
    session = connectorType('postgres').connect(params);
  });
  after(async () => {
    await session?.close();
    await adminQuery(`drop database if exists ${database} with (force)`);
    for (const name of roles) await adminQuery(`drop role if exists ${name}`);
  });

  describe('rotate_credential', () => {
    const oldSecret = newSecret();
    const secret = newSecret();
    let name: string;
    const returned: unknown[] = [];
    before(async () => {
      name = await role(oldSecret);
    });

    test('the plan names the password change and changes nothing', async () => {
      const plan = await handler(session, 'rotate_credential').plan(targetOf(name, 'db_role'));
      returned.push(plan);
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['alter_password', `role ${name}`]]);
      assert.equal(plan.reversible, false);
      assert.equal(await login(name, oldSecret), 'ok');
    });

    test('execute sets the new password and verify proves it with a login', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k1', newSecret: secret }));
      const verification = await rotate.verify(targetOf(name, 'db_role'), { newSecret: secret });
      returned.push(verification);
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.deepEqual(verification.checks.map((c) => c.name), ['new_secret_authenticates', 'other_secret_refused']);
      assert.equal(await login(name, secret), 'ok');
    });

    test('the old password is refused after rotation', async () => {
      assert.equal(await login(name, oldSecret), '28P01');
    });

    test('executing again leaves the same state and verify still passes', async () => {
      const rotate = handler(session, 'rotate_credential');
      returned.push(await rotate.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k1', newSecret: secret }));
      assert.equal((await rotate.verify(targetOf(name, 'db_role'), { newSecret: secret })).verified, true);
      assert.equal(await login(name, secret), 'ok');
      assert.equal(await login(name, oldSecret), '28P01');
    });

    test('no secret appears in the plan, the results or the verifications', () => {
      assert.equal(returned.length, 4);
      assertNoSecret(returned, [secret, oldSecret]);
    });

    test('verification fails when the old password was set back behind Cordon\'s back', async () => {
      await adminQuery(`alter role ${name} password '${oldSecret}'`);
      const verification = await handler(session, 'rotate_credential').verify(targetOf(name, 'db_role'), { newSecret: secret });
      assert.equal(verification.verified, false);
      assert.equal(verification.checks.find((c) => c.name === 'new_secret_authenticates')?.passed, false);
    });

    test('a rotation is not verified where the server does not check the role\'s password', async () => {
      const trusted = await role(oldSecret, false);
      const rotate = handler(session, 'rotate_credential');
      await rotate.execute(targetOf(trusted), { idempotencyKey: 'k2', newSecret: secret });
      const verification = await rotate.verify(targetOf(trusted), { newSecret: secret });
      assert.equal(verification.verified, false);
      assert.equal(verification.checks.find((c) => c.name === 'other_secret_refused')?.passed, false);
    });
  });

  describe('revoke_sessions', () => {
    const secret = newSecret();
    let name: string;
    const clients: pg.Client[] = [];
    const open = async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, database, user: name, password: secret, application_name: 'invoice-worker' });
      // The server ends these sessions: that is the point, not an error of the test.
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      return client;
    };
    const pids = async () => (await adminQuery('select pid from pg_stat_activity where usename = $1 order by pid', [name])).rows.map((r) => r.pid as number);
    before(async () => {
      name = await role(secret);
      await open();
      await open();
    });
    after(async () => {
      for (const client of clients) await client.end().catch(() => undefined);
    });

    test('the plan lists each live session and ends none', async () => {
      const live = await pids();
      assert.equal(live.length, 2);
      const plan = await handler(session, 'revoke_sessions').plan(targetOf(name, 'db_role'));
      assert.deepEqual(plan.changes.map((c) => c.object), live.map((pid) => `session pid ${pid}`));
      assert.ok(plan.changes.every((c) => c.op === 'terminate_session' && c.detail.includes('invoice-worker')));
      assert.deepEqual(await pids(), live);
      assert.equal((await clients[0]!.query('select 1 as one')).rows[0].one, 1);
    });

    test('execute terminates every session and verify reads pg_stat_activity empty', async () => {
      const live = await pids();
      const revoke = handler(session, 'revoke_sessions');
      const result = await revoke.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k' });
      assert.deepEqual(result.output.terminated, live);
      assert.deepEqual(await pids(), []);
      const verification = await revoke.verify(targetOf(name, 'db_role'), {});
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      await assert.rejects(clients[0]!.query('select 1'));
    });

    test('executing again terminates nothing and verify still passes', async () => {
      const revoke = handler(session, 'revoke_sessions');
      assert.deepEqual((await revoke.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k' })).output.terminated, []);
      assert.equal((await revoke.verify(targetOf(name, 'db_role'), {})).verified, true);
    });

    test('verification fails when the application connected again', async () => {
      const again = await open();
      const { rows: [{ pid }] } = await again.query('select pg_backend_pid() as pid');
      const verification = await handler(session, 'revoke_sessions').verify(targetOf(name, 'db_role'), {});
      assert.equal(verification.verified, false);
      assert.match(verification.checks[0]!.detail, new RegExp(`pid ${pid}`));
    });
  });

  describe('disable_identity and enable_identity', () => {
    const secret = newSecret();
    let name: string;
    before(async () => {
      name = await role(secret);
    });

    test('the plan names NOLOGIN and the role still logs in', async () => {
      const plan = await handler(session, 'disable_identity').plan(targetOf(name, 'db_role'));
      assert.deepEqual(plan.changes.map((c) => [c.op, c.object]), [['set_nologin', `role ${name}`]]);
      assert.equal(plan.reversible, true);
      assert.equal(await login(name, secret), 'ok');
    });

    test('execute disables the role and verify proves a login with its password is refused', async () => {
      const disable = handler(session, 'disable_identity');
      const result = await disable.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k' });
      assert.equal(result.output.changed, true);
      const verification = await disable.verify(targetOf(name, 'db_role'), { currentSecret: secret });
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.deepEqual(verification.checks.map((c) => c.name), ['login_disabled_in_catalog', 'login_refused']);
      assert.equal(await login(name, secret), '28000');
      assertNoSecret([result, verification], [secret]);
    });

    test('executing again changes nothing and verify still passes', async () => {
      const disable = handler(session, 'disable_identity');
      assert.equal((await disable.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await disable.plan(targetOf(name, 'db_role'))).changes.length, 0);
      assert.equal((await disable.verify(targetOf(name, 'db_role'), { currentSecret: secret })).verified, true);
    });

    test('verification fails when the role was re-enabled behind Cordon\'s back', async () => {
      await adminQuery(`alter role ${name} login`);
      const verification = await handler(session, 'disable_identity').verify(targetOf(name, 'db_role'), { currentSecret: secret });
      assert.equal(verification.verified, false);
      assert.deepEqual(verification.checks.map((c) => c.passed), [false, false]);
      await adminQuery(`alter role ${name} nologin`);
    });

    test('rollback of the disable lets the role log in again, and enable verifies it', async () => {
      const disable = handler(session, 'disable_identity');
      await disable.rollback!(targetOf(name, 'db_role'));
      assert.equal(await login(name, secret), 'ok');
      const verification = await handler(session, 'enable_identity').verify(targetOf(name, 'db_role'), { currentSecret: secret });
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
    });

    test('enable_identity plans LOGIN for a disabled role, executes once and is idempotent', async () => {
      await adminQuery(`alter role ${name} nologin`);
      const enable = handler(session, 'enable_identity');
      const plan = await enable.plan(targetOf(name, 'db_role'));
      assert.deepEqual(plan.changes.map((c) => c.op), ['set_login']);
      assert.equal(await login(name, secret), '28000');
      assert.equal((await enable.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k' })).output.changed, true);
      assert.equal((await enable.execute(targetOf(name, 'db_role'), { idempotencyKey: 'k' })).output.changed, false);
      assert.equal((await enable.verify(targetOf(name, 'db_role'), { currentSecret: secret })).verified, true);
    });
  });

  describe('remove_grant', () => {
    const secret = newSecret();
    let name: string;
    let target: ReturnType<typeof targetOf>;
    const select = async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, database, user: name, password: secret });
      await client.connect();
      try {
        await client.query('select count(*) from invoices');
        return 'ok';
      } catch (error) {
        return (error as { code: string }).code;
      } finally {
        await client.end();
      }
    };
    before(async () => {
      name = await role(secret);
      const admin = new pg.Client({ host: '127.0.0.1', port: 5432, database, user: 'postgres' });
      await admin.connect();
      await admin.query('create table invoices (id int primary key)');
      await admin.query(`grant select, insert on invoices to ${name}`);
      await admin.end();
      // The resource as discovery keys it.
      target = targetOf(name, 'db_role', { resourceKey: `${database}.public.invoices`, permissions: ['INSERT', 'SELECT'] });
    });

    test('the plan names the privileges to revoke and the role still reads the table', async () => {
      const plan = await handler(session, 'remove_grant').plan(target);
      assert.deepEqual(plan.changes, [{ op: 'revoke_privileges', object: 'table public.invoices', detail: `REVOKE INSERT, SELECT FROM ${name}` }]);
      assert.equal(await select(), 'ok');
    });

    test('execute revokes the grant and verify reads the ACL without it', async () => {
      const remove = handler(session, 'remove_grant');
      await remove.execute(target, { idempotencyKey: 'k' });
      const verification = await remove.verify(target, {});
      assert.equal(verification.verified, true, JSON.stringify(verification.checks));
      assert.equal(await select(), '42501');
    });

    test('executing again leaves the same ACL and verify still passes', async () => {
      const remove = handler(session, 'remove_grant');
      await remove.execute(target, { idempotencyKey: 'k' });
      assert.equal((await remove.plan(target)).changes.length, 0);
      assert.equal((await remove.verify(target, {})).verified, true);
    });

    test('verification fails when the grant was given back behind Cordon\'s back', async () => {
      const admin = new pg.Client({ host: '127.0.0.1', port: 5432, database, user: 'postgres' });
      await admin.connect();
      await admin.query(`grant select on invoices to ${name}`);
      await admin.end();
      const verification = await handler(session, 'remove_grant').verify(target, {});
      assert.equal(verification.verified, false);
      assert.match(verification.checks[0]!.detail, /still grants SELECT/);
    });

    test('rollback grants the privileges again', async () => {
      await handler(session, 'remove_grant').rollback!(target);
      assert.equal(await select(), 'ok');
      assert.deepEqual((await handler(session, 'remove_grant').plan(target)).changes.map((c) => c.detail), [`REVOKE INSERT, SELECT FROM ${name}`]);
    });

    test('a permission that is not a table privilege is refused, naming the field', async () => {
      const bad = targetOf(name, 'db_role', { resourceKey: `${database}.public.invoices`, permissions: ['SELECT', 'SELECT; drop table invoices'] });
      await assert.rejects(handler(session, 'remove_grant').plan(bad), { code: 'ERR_ACTION_TARGET', issues: [{ path: '/grant/permissions/1', message: 'must be one of SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER on a table' }] });
    });
  });

  test('a role that does not exist is reported as not found, naming it and the server', async () => {
    await assert.rejects(handler(session, 'disable_identity').plan(targetOf('cordon_t_nobody')), (error: Error & { code?: string }) =>
      error.code === 'ERR_CONNECTOR_TARGET_NOT_FOUND' && /role "cordon_t_nobody" does not exist on PostgreSQL at 127\.0\.0\.1:5432/.test(error.message));
  });

  test('a rotation without the new secret is refused before anything changes', async () => {
    await assert.rejects(handler(session, 'rotate_credential').execute(targetOf('postgres'), { idempotencyKey: 'k' }), { code: 'ERR_ACTION_SECRET_REQUIRED' });
  });
});

describe('PostgreSQL connector pointed at a server it cannot reach', () => {
  test('a refused connection fails as unreachable, naming the server', async () => {
    const port = await closedPort();
    const session = connectorType('postgres').connect({ ...params, port });
    await assert.rejects(handler(session, 'revoke_sessions').plan(targetOf('app')), isUnreachable(new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}/`)));
    await session.close();
  });

  test('a server that never answers fails as unreachable after the connect timeout', { timeout: 10_000 }, async () => {
    const server = await silentServer();
    const session = connectorType('postgres').connect({ ...params, port: server.port, connectTimeoutMs: 300 });
    await assert.rejects(handler(session, 'disable_identity').execute(targetOf('app'), { idempotencyKey: 'k' }), isUnreachable(new RegExp(`127\\.0\\.0\\.1:${server.port}`)));
    await session.close();
    await server.close();
  });
});
