import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ACCESS_TOKEN_TYPE, accessToken, exchange, introspect, JWT_TYPE, trustIssuer } from '../helpers/broker.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const AUD = 'https://cordon.test';

for (const kind of STORE_KINDS) {
  describe(`containment of broker tokens on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let t: TestApp;
    let runtime: WorkloadIssuer;
    const own = (agent: string) => runtime.sign({ sub: agent, aud: AUD });
    const post = (url: string, payload: Record<string, unknown>, role: 'responder' | 'viewer' = 'responder') => t.app.inject({ method: 'POST', url, headers: t.auth(role), payload });

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      t = await startTestApp(store);
      runtime = await startWorkloadIssuer('EdDSA');
      const agent = (id: string) => ({ claims: { sub: id }, identity: id, scopes: ['ledger:read'], audiences: ['api:ledger'] });
      await trustIssuer(t, { id: 'rt', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: [AUD], bindings: [agent('agent-support'), agent('agent-refunds'), agent('agent-data-analyst')] });
    });
    after(async () => {
      await t?.close();
      await runtime?.close();
    });

    test('revoke_sessions revokes every broker token of the identity and what was derived from them, and nothing else', async () => {
      const own1 = await accessToken(t, await own('agent-support'));
      const own2 = await accessToken(t, await own('agent-support'));
      const delegated = await accessToken(t, own1, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own('agent-refunds'), actor_token_type: JWT_TYPE });
      const bystander = await accessToken(t, await own('agent-data-analyst'));
      const res = await post('/v1/broker/identities/agent-support/revoke-sessions', { reason: 'secret exposure' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(new Set(res.json().revoked), new Set([own1, own2, delegated].map((x) => decodeJwt(x).jti)));
      for (const token of [own1, own2, delegated]) assert.deepEqual(await introspect(t, token), { active: false });
      assert.equal((await introspect(t, bystander)).active, true);
      assert.equal(await t.context.broker.activeTokenCount('agent-support'), 0);
      const audit = await store.db.selectFrom('auditLog').select(['actorSubject', 'payload']).where('action', '=', 'broker.sessions.revoked').execute();
      assert.equal(audit.at(-1)?.actorSubject, 'responder-user');
    });

    test('a token issued on an identity\'s behalf is revoked with it even when held by another identity', async () => {
      const actorFirst = await accessToken(t, await own('agent-support'), { actor_token: await own('agent-refunds'), actor_token_type: JWT_TYPE });
      assert.deepEqual(decodeJwt(actorFirst).act, { sub: 'agent-refunds' });
      await post('/v1/broker/identities/agent-support/revoke-sessions', { reason: 'drill' });
      assert.deepEqual(await introspect(t, actorFirst), { active: false });
    });

    test('quarantine suspends the identity\'s tokens and refuses it new ones until released', async () => {
      const held = await accessToken(t, await own('agent-data-analyst'));
      const quarantined = await post('/v1/broker/identities/agent-data-analyst/quarantine', { reason: 'off-hours privileged action', ttlSeconds: 600 });
      assert.equal(quarantined.statusCode, 200, quarantined.body);
      assert.deepEqual(await introspect(t, held), { active: false });
      const refused = await exchange(t, await own('agent-data-analyst'));
      assert.equal(refused.json().error, 'invalid_request');
      assert.match(refused.json().error_description, /agent-data-analyst, which is quarantined/);
      const task = await t.app.inject({ method: 'POST', url: '/v1/tasks', headers: t.auth('workload'), payload: { subjectToken: await own('agent-data-analyst'), purpose: 'report' } });
      assert.equal(task.statusCode, 403);
      const released = await post('/v1/broker/identities/agent-data-analyst/release', { reason: 'owner confirmed the run' });
      assert.equal(released.statusCode, 200);
      assert.equal((await introspect(t, held)).active, true, 'reversible: the same token is active again');
      assert.equal((await exchange(t, await own('agent-data-analyst'))).statusCode, 200);
    });

    test('a viewer cannot contain anything', async () => {
      const res = await post('/v1/broker/identities/agent-support/quarantine', { reason: 'x', ttlSeconds: 60 }, 'viewer');
      assert.equal(res.statusCode, 403);
    });

    test('broker tokens show in the identity\'s detail as live sessions', async () => {
      const token = await accessToken(t, await own('agent-refunds'));
      const res = await t.app.inject({ method: 'GET', url: '/v1/identities/agent-refunds', headers: t.auth('viewer') });
      const session = res.json().sessions.find((s: { jti: string }) => s.jti === decodeJwt(token).jti);
      assert.equal(session?.source, 'broker');
      assert.equal(session?.status, 'active');
    });
  });
}
