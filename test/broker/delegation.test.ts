import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { blastRadius } from '../../src/inventory/blast-radius.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ACCESS_TOKEN_TYPE, accessToken, exchange, introspect, JWT_TYPE, postForm, trustIssuer } from '../helpers/broker.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const AUD = 'https://cordon.test';
const A = 'agent-support';
const B = 'agent-refunds';
const C = 'agent-ledger-reader';

for (const kind of STORE_KINDS) {
  describe(`delegation chains on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let t: TestApp;
    let runtime: WorkloadIssuer;
    /** Each agent's own workload token, from the agent runtime's issuer. */
    const own = (agent: string, extra = {}) => runtime.sign({ sub: agent, aud: AUD, ...extra });
    /** A delegates to B, B to C: each hop presents the previous token with its own as actor. */
    async function chain(scopes = { a: 'tickets:read refunds:create ledger:read', b: 'refunds:create ledger:read', c: 'ledger:read' }) {
      const tokenA = await accessToken(t, await own(A), { audience: ['api:refunds', 'api:ledger'], scope: scopes.a });
      const tokenB = await accessToken(t, tokenA, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own(B), actor_token_type: JWT_TYPE, scope: scopes.b });
      const tokenC = await accessToken(t, tokenB, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own(C), actor_token_type: JWT_TYPE, scope: scopes.c, audience: 'api:ledger' });
      return { tokenA, tokenB, tokenC };
    }

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      t = await startTestApp(store);
      runtime = await startWorkloadIssuer('EdDSA');
      const agent = (id: string) => ({ claims: { sub: id }, identity: id, scopes: ['tickets:read', 'refunds:create', 'ledger:read'], audiences: ['api:refunds', 'api:ledger', 'api:zendesk'] });
      await trustIssuer(t, { id: 'agent-runtime', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: [AUD], bindings: [agent(A), agent(B), agent(C)] });
    });
    after(async () => {
      await t?.close();
      await runtime?.close();
    });

    test('each hop nests the new actor in act and keeps the subject', async () => {
      const { tokenA, tokenB, tokenC } = await chain();
      const [a, b, c] = [decodeJwt(tokenA), decodeJwt(tokenB), decodeJwt(tokenC)];
      assert.equal(a.sub, A);
      assert.equal(a.act, undefined);
      assert.equal(b.sub, A);
      assert.deepEqual(b.act, { sub: B });
      assert.equal(c.sub, A);
      assert.deepEqual(c.act, { sub: C, act: { sub: B } });
      assert.deepEqual(c.derived_from, [b.jti, a.jti]);
      const introspected = await introspect(t, tokenC);
      assert.equal(introspected.active, true);
      assert.deepEqual(introspected.act, { sub: C, act: { sub: B } });
    });

    test('scopes, audiences and lifetime only narrow along the chain', async () => {
      const { tokenA, tokenB, tokenC } = await chain();
      const [a, b, c] = [decodeJwt(tokenA), decodeJwt(tokenB), decodeJwt(tokenC)];
      assert.equal(a.scope, 'ledger:read refunds:create tickets:read');
      assert.equal(b.scope, 'ledger:read refunds:create');
      assert.equal(c.scope, 'ledger:read');
      assert.deepEqual(c.aud, ['api:ledger']);
      assert.ok(b.exp! <= a.exp! && c.exp! <= b.exp!);
      const wider = await exchange(t, tokenB, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own(C), actor_token_type: JWT_TYPE, scope: 'ledger:read tickets:read' });
      assert.equal(wider.json().error, 'invalid_scope');
      const back = await exchange(t, tokenC, { subject_token_type: ACCESS_TOKEN_TYPE, scope: 'refunds:create' });
      assert.equal(back.json().error, 'invalid_scope');
      const elsewhere = await exchange(t, tokenB, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own(C), actor_token_type: JWT_TYPE, audience: 'api:zendesk' });
      assert.equal(elsewhere.json().error, 'invalid_target');
    });

    test('revoking A\'s token makes B\'s and C\'s introspect as {"active": false}', async () => {
      const { tokenA, tokenB, tokenC } = await chain();
      assert.equal((await introspect(t, tokenC)).active, true);
      const revoked = await postForm(t, '/oauth2/revoke', { token: tokenA, token_type_hint: 'access_token' });
      assert.equal(revoked.statusCode, 200);
      assert.equal(revoked.body, '');
      assert.deepEqual(await introspect(t, tokenA), { active: false });
      assert.deepEqual(await introspect(t, tokenB), { active: false });
      assert.deepEqual(await introspect(t, tokenC), { active: false });
      const rows = await store.db.selectFrom('sessions').select(['jti', 'status']).where('jti', 'in', [tokenA, tokenB, tokenC].map((x) => decodeJwt(x).jti!)).execute();
      assert.deepEqual(rows.map((r) => r.status), ['revoked', 'revoked', 'revoked']);
    });

    test('a revoked token cannot be exchanged again, and neither can its descendants', async () => {
      const { tokenA, tokenB } = await chain();
      await postForm(t, '/oauth2/revoke', { token: tokenA });
      const res = await exchange(t, tokenB, { subject_token_type: ACCESS_TOKEN_TYPE, scope: 'ledger:read' });
      assert.equal(res.json().error, 'invalid_request');
      assert.equal(res.json().error_description, 'subject_token is not active: revoked');
    });

    test('revoking B\'s token leaves A\'s active and ends C\'s', async () => {
      const { tokenA, tokenB, tokenC } = await chain();
      await postForm(t, '/oauth2/revoke', { token: tokenB });
      assert.equal((await introspect(t, tokenA)).active, true);
      assert.deepEqual(await introspect(t, tokenC), { active: false });
    });

    test('each issued token is a session of its holder, derived from the token it came from', async () => {
      const { tokenA, tokenB, tokenC } = await chain();
      const [a, b, c] = [decodeJwt(tokenA).jti!, decodeJwt(tokenB).jti!, decodeJwt(tokenC).jti!];
      const rows = await store.db.selectFrom('sessions').select(['id', 'identityId', 'parentSessionId']).where('jti', 'in', [a, b, c]).orderBy('issuedAt').execute();
      assert.deepEqual(new Set(rows.map((r) => `${r.id} ${r.identityId} ${r.parentSessionId}`)), new Set([`${a} ${A} null`, `${b} ${B} ${a}`, `${c} ${C} ${b}`]));
      const radius = await blastRadius(t.context.graph, { type: 'identity', id: A }, { depth: 6 });
      for (const jti of [a, b, c]) assert.ok(radius.sessions.includes(jti), `blast radius of ${A} includes ${jti}`);
    });

    test('a chain is refused once it would be deeper than the maximum', async () => {
      let token = await accessToken(t, await own(A), { audience: 'api:ledger', scope: 'ledger:read' });
      const max = t.context.broker.settings.maxChainDepth;
      for (let hop = 1; hop <= max; hop++) token = await accessToken(t, token, { subject_token_type: ACCESS_TOKEN_TYPE });
      assert.equal((decodeJwt(token).derived_from as string[]).length, max);
      const res = await exchange(t, token, { subject_token_type: ACCESS_TOKEN_TYPE });
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, new RegExp(`deeper than ${max} hops`));
    });

    test('may_act in the subject token decides who may act for it', async () => {
      const subject = await own(A, { may_act: { sub: B } });
      const refused = await exchange(t, subject, { actor_token: await own(C), actor_token_type: JWT_TYPE, audience: 'api:ledger', scope: 'ledger:read' });
      assert.equal(refused.json().error, 'invalid_request');
      assert.match(refused.json().error_description, /may_act/);
      const allowed = await exchange(t, subject, { actor_token: await own(B), actor_token_type: JWT_TYPE, audience: 'api:ledger', scope: 'ledger:read' });
      assert.equal(allowed.statusCode, 200, allowed.body);
      assert.deepEqual(decodeJwt(allowed.json().access_token).act, { sub: B });
    });

    test('an actor token naming the holder itself is refused', async () => {
      const tokenA = await accessToken(t, await own(A), { audience: 'api:ledger' });
      const res = await exchange(t, tokenA, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own(A), actor_token_type: JWT_TYPE });
      assert.equal(res.json().error, 'invalid_request');
    });

    test('an access_token subject that Cordon did not issue is refused', async () => {
      const res = await exchange(t, await own(A), { subject_token_type: ACCESS_TOKEN_TYPE, audience: 'api:ledger' });
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /not an access token Cordon issued/);
    });

    test('revoking anything that is not a live Cordon token answers 200 and changes nothing', async () => {
      const before = await store.db.selectFrom('sessions').select(['jti']).where('status', '=', 'revoked').execute();
      for (const token of ['junk', await own(A), `${(await accessToken(t, await own(A), { audience: 'api:ledger' })).slice(0, -4)}AAAA`]) {
        const res = await postForm(t, '/oauth2/revoke', { token });
        assert.equal(res.statusCode, 200);
      }
      const afterRows = await store.db.selectFrom('sessions').select(['jti']).where('status', '=', 'revoked').execute();
      assert.equal(afterRows.length, before.length);
    });

    test('introspection says inactive for tokens that are not Cordon\'s or do not verify', async () => {
      assert.deepEqual(await introspect(t, 'not-a-token'), { active: false });
      assert.deepEqual(await introspect(t, await own(A)), { active: false });
      const good = await accessToken(t, await own(A), { audience: 'api:ledger' });
      const [header, payload] = good.split('.');
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(good), scope: 'ledger:read refunds:create tickets:read tickets:admin' })).toString('base64url')}.${good.split('.')[2]}`;
      assert.ok(payload !== tampered.split('.')[1]);
      assert.deepEqual(await introspect(t, tampered), { active: false });
    });
  });
}
