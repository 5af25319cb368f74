import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { newSecret, uniqueName } from '../helpers/connectors.js';
import { dumpDatabase } from '../helpers/dump.js';
import {
  loginMariadb, loginRabbitmq, loginRedis, mariadbRoot, mariadbSession, rabbitmqAdmin, rabbitmqSession, redisAdmin, redisSession, type LiveSession,
} from '../helpers/logins.js';
import { leakedInGitleaks, settledRuns, startResponder } from '../helpers/respond.js';
import { skipUnless } from '../helpers/services.js';
import { openTestStore, storeSkip } from '../helpers/store.js';

/**
 * Detection → verified containment on MariaDB, Redis and RabbitMQ: a leaked password of an
 * account is rotated, its connections ended and the account disabled, each proven by the
 * connector and checked again here with a real login.
 */
const services = {
  mariadb: await skipUnless('mariadb'),
  redis: await skipUnless('redis'),
  rabbitmq: (await skipUnless('rabbitmq')) || (await skipUnless('rabbitmq-management')),
};
const CONTAINMENT = ['rotate', 'revoke-sessions', 'disable'];

describe('detection to verified containment on MariaDB, Redis and RabbitMQ', { skip: await storeSkip('postgres') }, () => {
  const names = { mariadb: uniqueName('cordon_t_orders'), redis: uniqueName('cordon_t_cache'), rabbitmq: uniqueName('cordon_t_events') };
  const secrets = { mariadb: newSecret(), redis: newSecret(), rabbitmq: newSecret() };
  let t: TestApp;
  let responder: ReturnType<typeof startResponder>;
  const live: LiveSession[] = [];

  before(async () => {
    if (!services.mariadb) await mariadbRoot('create user ?@? identified by ?', [names.mariadb, '%', secrets.mariadb]);
    if (!services.redis) await redisAdmin('ACL', 'SETUSER', names.redis, 'on', `>${secrets.redis}`, '~cache:*', '+@read', '+@write', '+@connection');
    if (!services.rabbitmq) {
      await rabbitmqAdmin('PUT', `/users/${names.rabbitmq}`, { password: secrets.rabbitmq, tags: [] });
      await rabbitmqAdmin('PUT', `/permissions/%2F/${names.rabbitmq}`, { configure: '.*', write: '.*', read: '.*' });
    }
    t = await startTestApp(await openTestStore('postgres'));
    const identity = (id: string, connector: string, externalRef: string, secret: string) => ({
      id, kind: 'service_account', name: id, provider: connector.split('-')[0], connector, externalRef, environment: 'production',
      owners: { team: 'platform' }, credentials: [{ name: 'password', type: 'password', value: secret }],
    });
    const inventory = {
      apiVersion: 'cordon/v1', kind: 'Inventory',
      teams: [{ id: 'platform', name: 'Platform', responsibility: 'platform' }],
      connectors: [
        { id: 'mariadb-e2e', type: 'mariadb', params: { host: '127.0.0.1', port: 3306, user: 'root' } },
        { id: 'redis-e2e', type: 'redis', params: { host: '127.0.0.1', port: 6379 } },
        { id: 'rabbitmq-e2e', type: 'rabbitmq', params: { host: '127.0.0.1', amqpPort: 5672, managementPort: 15672, vhost: '/', user: 'guest', password: 'guest' } },
      ],
      identities: [
        identity('svc-orders', 'mariadb-e2e', `${names.mariadb}@%`, secrets.mariadb),
        identity('svc-cache', 'redis-e2e', names.redis, secrets.redis),
        identity('svc-events', 'rabbitmq-e2e', names.rabbitmq, secrets.rabbitmq),
      ],
    };
    const imported = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: inventory });
    assert.equal(imported.statusCode, 200, imported.body);
    responder = startResponder(t);
  });

  after(async () => {
    await responder?.stop();
    for (const session of live) await session.close();
    await t?.close();
    if (!services.mariadb) await mariadbRoot('drop user if exists ?@?', [names.mariadb, '%']);
    if (!services.redis) await redisAdmin('ACL', 'DELUSER', names.redis);
    if (!services.rabbitmq) await rabbitmqAdmin('DELETE', `/users/${names.rabbitmq}`).catch(() => undefined);
  });

  /** Sends the leak, waits for the response, and returns the secret delivered in place of the old one. */
  async function leakAndContain(identityId: string, secret: string): Promise<string> {
    const sent = await t.app.inject({ method: 'POST', url: '/v1/events?format=gitleaks', headers: t.auth('responder'), payload: leakedInGitleaks(secret) });
    assert.equal(sent.statusCode, 200, sent.body);
    const runs = await settledRuns(t, responder, identityId);
    for (const step of CONTAINMENT) {
      const run = runs.find((r) => r.stepId === step);
      assert.equal(run?.state, 'verified', `${step}: ${run?.state} ${run?.error ?? ''} ${JSON.stringify(run?.verification)}`);
    }
    const incident = await t.context.db.selectFrom('incidents').select('status').where('id', '=', runs[0]!.incidentId).executeTakeFirstOrThrow();
    assert.equal(incident.status, 'contained');
    const fresh = (await readFile(join(t.dataDir, 'delivery', `${identityId}_password.secret`), 'utf8')).trim();
    const dump = await dumpDatabase(t.context.db);
    assert.ok(!dump.includes(secret) && !dump.includes(fresh), 'no plaintext secret in the database');
    assert.ok(!t.logs.text.includes(secret) && !t.logs.text.includes(fresh), 'no plaintext secret in the logs');
    return fresh;
  }

  test('MariaDB: rotated, connections killed and the account locked, proven by logins', { skip: services.mariadb }, async () => {
    live.push(await mariadbSession(names.mariadb, secrets.mariadb));
    const [{ n: before }] = await mariadbRoot<[{ n: number }]>('select count(*) as n from information_schema.processlist where user = ?', [names.mariadb]);
    assert.equal(Number(before), 1);
    const fresh = await leakAndContain('svc-orders', secrets.mariadb);
    assert.equal(await loginMariadb(names.mariadb, secrets.mariadb), 1045, 'the old password is refused');
    assert.equal(await loginMariadb(names.mariadb, fresh), 4151, 'the new password is right, and the account is locked');
    const [{ n: after }] = await mariadbRoot<[{ n: number }]>('select count(*) as n from information_schema.processlist where user = ?', [names.mariadb]);
    assert.equal(Number(after), 0);
  });

  test('Redis: rotated, clients killed and the user switched off, proven by AUTH', { skip: services.redis }, async () => {
    live.push(await redisSession(names.redis, secrets.redis));
    const fresh = await leakAndContain('svc-cache', secrets.redis);
    assert.equal(await loginRedis(names.redis, secrets.redis), 'WRONGPASS', 'the old password is refused');
    const user = await redisAdmin<unknown[]>('ACL', 'GETUSER', names.redis);
    const flags = user[user.indexOf('flags') + 1] as string[];
    assert.ok(flags.includes('off'), `flags: ${flags.join(' ')}`);
    assert.equal(await loginRedis(names.redis, fresh), 'WRONGPASS', 'an off user cannot authenticate even with its password');
    const clients = await redisAdmin<string>('CLIENT', 'LIST');
    assert.ok(!clients.includes(`user=${names.redis} `), 'no client of the user is left');
  });

  test('RabbitMQ: rotated, connections closed and new ones refused, proven by AMQP logins', { skip: services.rabbitmq }, async () => {
    live.push(await rabbitmqSession(names.rabbitmq, secrets.rabbitmq));
    const fresh = await leakAndContain('svc-events', secrets.rabbitmq);
    assert.equal(await loginRabbitmq(names.rabbitmq, secrets.rabbitmq), 'ACCESS_REFUSED', 'the old password is refused');
    const refused = await loginRabbitmq(names.rabbitmq, fresh);
    assert.notEqual(refused, 'ok', 'the new password is right, and the user may not connect');
    assert.notEqual(refused, 'ACCESS_REFUSED', 'refused as disabled, not for a wrong password');
    const limits = await rabbitmqAdmin('GET', `/user-limits/${names.rabbitmq}`) as { value: Record<string, number> }[];
    assert.equal(limits[0]?.value['max-connections'], 0);
  });
});
