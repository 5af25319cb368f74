import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import pg from 'pg';
import { DROP_DB_CREDENTIAL_JOB } from '../../src/broker/db-credentials.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startWorker, type Worker } from '../../src/runtime/worker.js';
import type { Job } from '../../src/store/jobs.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ACCESS_TOKEN_TYPE, accessToken, exchange, introspect, JWT_TYPE, trustIssuer } from '../helpers/broker.js';
import { startCaepReceiver } from '../helpers/caep-receiver.js';
import { dumpDatabase } from '../helpers/dump.js';
import { skipUnless } from '../helpers/services.js';
import { adminQuery, openTestStore, STORE_KINDS, type TestStore } from '../helpers/store.js';
import { kubernetesClaims, startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const AUD = 'https://cordon.test';

/** Tries to log in to the connector's database; resolves to the rows of `select` or the error code. */
async function login(database: string, user: string, password: string, query = 'select 1 as ok'): Promise<unknown[] | string> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, database, user, password });
  try {
    await client.connect();
    return (await client.query(query)).rows;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

for (const kind of STORE_KINDS) {
  describe(`tasks and dynamic PostgreSQL credentials on ${kind}`, { skip: await skipUnless('postgres') }, () => {
    const suffix = randomBytes(4).toString('hex');
    const targetDb = `cordon_t_dyn_${suffix}`;
    const appRole = `cordon_t_orders_${suffix}`;
    let store: TestStore;
    let t: TestApp;
    let cluster: WorkloadIssuer;
    const workloadToken = (serviceAccount = 'orders-api') => cluster.sign({ ...kubernetesClaims('orders', serviceAccount), aud: AUD });

    async function startTask(ttlSeconds?: number, serviceAccount?: string) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/tasks', headers: t.auth('workload'), payload: { subjectToken: await workloadToken(serviceAccount), purpose: 'nightly export', ttlSeconds } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; identityId: string; expiresAt: string; createdAt: string; status: string };
    }
    async function credentials(taskId: string, body: Record<string, unknown> = {}) {
      return t.app.inject({ method: 'POST', url: `/v1/tasks/${taskId}/database-credentials`, headers: t.auth('workload'), payload: { subjectToken: await workloadToken(), connector: 'pg-orders', ...body } });
    }

    before(async () => {
      // A database and a role of the target system; the dynamic role becomes a member of it.
      await adminQuery(`create database ${targetDb}`);
      await adminQuery(`create role ${appRole} nologin`);
      const target = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${targetDb}` });
      await target.connect();
      await target.query(`create table orders (id int primary key, total numeric); insert into orders values (1, 42); grant select on orders to ${appRole}`);
      await target.end();

      store = await openTestStore(kind);
      t = await startTestApp(store);
      await t.context.inventory.importSources([{
        file: 'inline', locate: () => 'inline',
        document: {
          apiVersion: 'cordon/v1', kind: 'Inventory',
          connectors: [{ id: 'pg-orders', type: 'postgres', params: { host: '127.0.0.1', port: 5432, database: targetDb, user: 'postgres' } }],
          identities: [
            { id: 'svc-orders-db', kind: 'db_role', name: 'orders db role', provider: 'postgres', connector: 'pg-orders', externalRef: appRole, environment: 'production' },
            { id: 'svc-other-db', kind: 'db_role', name: 'some other role', provider: 'postgres', connector: 'pg-orders', externalRef: 'postgres', environment: 'production' },
            { id: 'wl-orders-api', kind: 'workload', name: 'orders api pods', provider: 'kubernetes', externalRef: 'system:serviceaccount:orders:orders-api', environment: 'production' },
            { id: 'wl-orders-batch', kind: 'workload', name: 'orders batch', provider: 'kubernetes', externalRef: 'system:serviceaccount:orders:orders-batch', environment: 'production' },
          ],
          edges: [{ kind: 'trusts', from: 'wl-orders-api', to: 'svc-orders-db' }],
        },
      }], SYSTEM_ACTOR);
      cluster = await startWorkloadIssuer('ES256');
      await trustIssuer(t, {
        id: 'orders-cluster', issuer: cluster.issuer, kind: 'kubernetes', jwksUri: cluster.jwksUri, audiences: [AUD],
        bindings: [{ claims: { 'kubernetes.io/namespace': 'orders' }, identityFromClaim: 'sub', scopes: ['orders:read'], audiences: ['api:orders'] }],
      });
    });
    after(async () => {
      await t?.close();
      await cluster?.close();
      await adminQuery(`drop database if exists ${targetDb} with (force)`);
      const leftovers = await adminQuery(`select rolname from pg_roles where rolname like 'cordon\\_%' and pg_has_role(rolname, '${appRole}', 'member') and rolname <> '${appRole}'`);
      for (const { rolname } of leftovers.rows) await adminQuery(`drop role if exists "${rolname}"`);
      await adminQuery(`drop role if exists ${appRole}`);
    });

    test('a task lasts 5 minutes by default and no longer than the cap', async () => {
      const task = await startTask();
      assert.equal(task.identityId, 'wl-orders-api');
      assert.equal(task.status, 'active');
      assert.equal(new Date(task.expiresAt).getTime() - new Date(task.createdAt).getTime(), 300_000);
      const res = await t.app.inject({ method: 'POST', url: '/v1/tasks', headers: t.auth('workload'), payload: { subjectToken: await workloadToken(), purpose: 'forever', ttlSeconds: 86_400 } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'ERR_BROKER_TASK_TTL');
    });

    test('a token bound to a task carries it and does not outlive it', async () => {
      const task = await startTask(60);
      const token = await accessToken(t, await workloadToken(), { task_id: task.id });
      const claims = decodeJwt(token);
      assert.equal(claims.task_id, task.id);
      assert.ok(claims.exp! * 1000 <= new Date(task.expiresAt).getTime());
    });

    test('a workload cannot bind its token to another identity\'s task', async () => {
      const task = await startTask(60, 'orders-batch');
      const res = await exchange(t, await workloadToken(), { task_id: task.id });
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /is not a task of wl-orders-api/);
    });

    test('ending a task makes all its tokens inactive and drops its dynamic PostgreSQL role', async () => {
      const task = await startTask();
      const first = await accessToken(t, await workloadToken(), { task_id: task.id });
      const second = await accessToken(t, first, { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
      const issued = await credentials(task.id);
      assert.equal(issued.statusCode, 201, issued.body);
      assert.equal(issued.headers['cache-control'], 'no-store');
      const cred = issued.json();
      assert.deepEqual(cred.memberOf, [appRole]);
      assert.equal(cred.database, targetDb);
      assert.equal(new Date(cred.validUntil).getTime(), new Date(task.expiresAt).getTime());
      assert.deepEqual(await login(targetDb, cred.username, cred.password, 'select total::text from orders'), [{ total: '42' }]);
      const validUntil = await adminQuery('select rolvaliduntil from pg_roles where rolname = $1', [cred.username]);
      assert.equal(validUntil.rows[0].rolvaliduntil.getTime(), new Date(task.expiresAt).getTime());

      const ended = await t.app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/end`, headers: t.auth('workload'), payload: { subjectToken: await workloadToken() } });
      assert.equal(ended.statusCode, 200, ended.body);
      assert.equal(ended.json().task.status, 'ended');
      assert.deepEqual(new Set(ended.json().revokedTokens), new Set([decodeJwt(first).jti, decodeJwt(second).jti]));
      assert.deepEqual(ended.json().droppedRoles, [cred.username]);

      assert.deepEqual(await introspect(t, first), { active: false });
      assert.deepEqual(await introspect(t, second), { active: false });
      const failed = await login(targetDb, cred.username, cred.password);
      assert.equal(typeof failed, 'string', 'the login must fail');
      assert.equal((await adminQuery('select 1 from pg_roles where rolname = $1', [cred.username])).rowCount, 0);
      const credential = await store.db.selectFrom('credentials').select(['status', 'fingerprint']).where('externalRef', '=', cred.username).executeTakeFirstOrThrow();
      assert.equal(credential.status, 'revoked');
      assert.equal(credential.fingerprint, t.context.fingerprint(cred.password));

      const again = await exchange(t, await workloadToken(), { task_id: task.id });
      assert.equal(again.json().error, 'invalid_request');
      assert.match(again.json().error_description, /is over/);
    });

    test('the dynamic password is in no table and no log line; only its fingerprint is kept', async () => {
      const task = await startTask(60);
      const cred = (await credentials(task.id)).json();
      const dump = await dumpDatabase(store.db);
      assert.ok(!dump.includes(cred.password), 'database');
      assert.ok(!t.logs.text.includes(cred.password), 'logs');
      assert.ok(dump.includes(t.context.fingerprint(cred.password)));
    });

    test('a role the identity may not take is refused', async () => {
      const task = await startTask(60);
      const res = await credentials(task.id, { roles: ['postgres'] });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().code, 'ERR_BROKER_DB_ROLE_NOT_ALLOWED');
    });

    test('a delegate holding a token of the task gets none of its database roles', async () => {
      const task = await startTask(60);
      const own = await accessToken(t, await workloadToken(), { task_id: task.id });
      const delegated = await accessToken(t, own, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await workloadToken('orders-batch'), actor_token_type: JWT_TYPE });
      assert.equal(decodeJwt(delegated).task_id, task.id);
      const res = await credentials(task.id, { subjectToken: delegated, subjectTokenType: ACCESS_TOKEN_TYPE });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().code, 'ERR_BROKER_TASK_NOT_YOURS');
    });

    test('a workload ends only its own tasks; a responder ends any', async () => {
      const task = await startTask(60, 'orders-batch');
      const stranger = await t.app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/end`, headers: t.auth('workload'), payload: { subjectToken: await workloadToken() } });
      assert.equal(stranger.statusCode, 403);
      assert.equal(stranger.json().code, 'ERR_BROKER_TASK_NOT_YOURS');
      const bare = await t.app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/end`, headers: t.auth('workload'), payload: {} });
      assert.equal(bare.statusCode, 400);
      const responder = await t.app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/end`, headers: t.auth('responder'), payload: { reason: 'containment drill' } });
      assert.equal(responder.statusCode, 200, responder.body);
      assert.equal(responder.json().task.endReason, 'containment drill');
      const twice = await t.app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/end`, headers: t.auth('responder') });
      assert.equal(twice.statusCode, 409, twice.body);
    });

    test('at expiry a worker drops the role, without anyone ending the task', async () => {
      const worker: Worker = startWorker({ db: store.db, logger: createLogger('silent'), handlers: t.context.broker.jobHandlers, signal: t.context.jobSignal, pollMs: 200 });
      try {
        const task = await startTask(1);
        const cred = (await credentials(task.id)).json();
        const job = await new Promise<Job>((resolve) => worker.events.on('finished', (j: Job) => {
          if (j.kind === DROP_DB_CREDENTIAL_JOB && (j.payload as { id: string }).id === cred.id) resolve(j);
        }));
        assert.equal(job.status, 'succeeded', job.error ?? '');
        assert.equal((await adminQuery('select 1 from pg_roles where rolname = $1', [cred.username])).rowCount, 0);
        assert.equal(typeof await login(targetDb, cred.username, cred.password), 'string');
      } finally {
        await worker.stop();
      }
    });

    test('a CAEP receiver gets a credential-change SET when a dynamic role is created and when it is revoked', async () => {
      const receiver = await startCaepReceiver();
      const worker = startWorker({ db: store.db, logger: createLogger('silent'), handlers: t.context.broker.jobHandlers, signal: t.context.jobSignal, pollMs: 200 });
      try {
        const put = await t.app.inject({ method: 'PUT', url: '/v1/broker/receivers/dba', headers: t.auth('admin'), payload: { id: 'dba', endpoint: receiver.endpoint, audience: 'https://dba.test', events: ['credential-change'] } });
        assert.equal(put.statusCode, 200, put.body);
        const task = await startTask(60);
        const cred = (await credentials(task.id)).json();
        await t.app.inject({ method: 'POST', url: `/v1/tasks/${task.id}/end`, headers: t.auth('responder') });
        const jwks = createLocalJWKSet((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
        const changes = [];
        for (const set of await receiver.waitFor(2)) {
          const { payload } = await jwtVerify(set.body, jwks, { typ: 'secevent+jwt', audience: 'https://dba.test' });
          const event = (payload.events as Record<string, { change_type: string; credential_type: string; friendly_name: string }>)['https://schemas.openid.net/secevent/caep/event-type/credential-change']!;
          assert.equal(event.credential_type, 'password');
          assert.equal(event.friendly_name, cred.username);
          assert.deepEqual(payload.sub_id, { format: 'iss_sub', iss: t.context.broker.settings.issuer, sub: 'wl-orders-api' });
          changes.push(event.change_type);
        }
        assert.deepEqual(changes.sort(), ['create', 'revoke']);
      } finally {
        await worker.stop();
        await t.app.inject({ method: 'DELETE', url: '/v1/broker/receivers/dba', headers: t.auth('admin') });
        await receiver.close();
      }
    });
  });
}
