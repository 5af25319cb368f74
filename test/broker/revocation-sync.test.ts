import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { loadConfig } from '../../src/runtime/config.js';
import { openContext, type Context } from '../../src/runtime/context.js';
import { createLogger } from '../../src/runtime/logger.js';
import { openStore } from '../../src/store/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ACCESS_TOKEN_TYPE, accessToken, postForm, trustIssuer } from '../helpers/broker.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { skipUnless } from '../helpers/services.js';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

/**
 * Two Cordon processes on one PostgreSQL: each keeps its revocation state in memory, and each
 * must see what the other revoked. (Two contexts in this process stand for the two processes: they
 * share nothing but the database and the deployment's keys.)
 */
describe('revocations kept in step across processes', { skip: await skipUnless('postgres') }, () => {
  let store: TestStore;
  let a: TestApp;
  let b: Context;
  let runtime: WorkloadIssuer;
  const own = (agent: string) => runtime.sign({ sub: agent, aud: 'https://cordon.test' });
  /** Resolves once process B has applied entries written by A. */
  const applied = () => once(b.broker.revocationEvents, 'applied');

  before(async () => {
    store = await openTestStore('postgres');
    await seedExampleInventory(store.db);
    a = await startTestApp(store);
    b = await openContext({ ...loadConfig({}), dataDir: a.dataDir }, createLogger('silent'), await openStore({ databaseUrl: store.url, poolSize: 4 }));
    runtime = await startWorkloadIssuer('EdDSA');
    const agent = (id: string) => ({ claims: { sub: id }, identity: id, scopes: ['ledger:read'], audiences: ['api:ledger'] });
    await trustIssuer(a, { id: 'rt', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: ['https://cordon.test'], bindings: [agent('agent-support'), agent('agent-refunds')] });
    await b.broker.ready();
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await runtime?.close();
  });

  test('a token revoked in one process introspects inactive in the other', async () => {
    const token = await accessToken(a, await own('agent-support'));
    assert.equal((await b.broker.introspect(token)).active, true);
    const seen = applied();
    await postForm(a, '/oauth2/revoke', { token });
    await seen;
    assert.deepEqual(await b.broker.introspect(token), { active: false });
  });

  test('a task ended in one process ends its tokens in the other', async () => {
    const task = await a.context.broker.startTask({ proof: { token: await own('agent-support'), tokenType: 'urn:ietf:params:oauth:token-type:jwt' }, purpose: 'sync test' }, SYSTEM_ACTOR);
    const token = await accessToken(a, await own('agent-support'), { task_id: task.id });
    assert.equal((await b.broker.introspect(token)).active, true);
    const seen = applied();
    await a.context.broker.endTask(task.id, undefined, SYSTEM_ACTOR);
    await seen;
    assert.deepEqual(await b.broker.introspect(token), { active: false });
  });

  test('a quarantine in one process suspends tokens in the other, and its release restores them', async () => {
    const token = await accessToken(a, await own('agent-refunds'));
    let seen = applied();
    await a.context.broker.quarantine('agent-refunds', new Date(Date.now() + 600_000), SYSTEM_ACTOR, 'test');
    await seen;
    assert.deepEqual(await b.broker.introspect(token), { active: false });
    seen = applied();
    await a.context.broker.release('agent-refunds', SYSTEM_ACTOR, 'test');
    await seen;
    assert.equal((await b.broker.introspect(token)).active, true);
  });

  test('a token whose ancestor was revoked is inactive even if its own session row escaped the cascade', async () => {
    const parent = await accessToken(a, await own('agent-support'));
    const child = await accessToken(a, parent, { subject_token_type: ACCESS_TOKEN_TYPE });
    assert.equal((await b.broker.introspect(child)).active, true);
    // Only the parent's entry, as when a child was recorded while the parent's revocation ran.
    const seen = applied();
    await sql`insert into broker_revocations (kind, ref, expires_at) values ('token', ${decodeJwt(parent).jti!}, now() + interval '1 hour')`.execute(store.db);
    await seen;
    assert.deepEqual(await b.broker.introspect(child), { active: false });
    const row = await store.db.selectFrom('sessions').select('status').where('jti', '=', decodeJwt(child).jti!).executeTakeFirstOrThrow();
    assert.equal(row.status, 'active');
  });

  test('a token signed with a key rotated in by the other process verifies', async () => {
    await a.context.broker.keys.rotate(SYSTEM_ACTOR);
    const token = await accessToken(a, await own('agent-support'));
    assert.equal((await b.broker.introspect(token)).active, true);
    assert.ok((await b.broker.jwks()).keys.some((k) => k.kid === decodeProtectedHeader(token).kid));
  });
});
