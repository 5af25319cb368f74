import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { verifyAudit } from '../../src/audit/service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ACCESS_TOKEN_TYPE, exchange, postForm, TOKEN_EXCHANGE, trustIssuer, verifyWithJwks } from '../helpers/broker.js';
import { dumpDatabase } from '../helpers/dump.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { githubActionsClaims, kubernetesClaims, startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const CORDON_AUDIENCE = 'https://cordon.test';

for (const kind of STORE_KINDS) {
  describe(`token exchange of workload tokens on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let t: TestApp;
    let github: WorkloadIssuer;
    let kubernetes: WorkloadIssuer;
    let untrusted: WorkloadIssuer;
    const deploy = (context = 'environment:production', extra = {}) => github.sign(githubActionsClaims('acme/payments', context, { aud: CORDON_AUDIENCE, ...extra }));

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      t = await startTestApp(store);
      github = await startWorkloadIssuer('RS256');
      kubernetes = await startWorkloadIssuer('ES256');
      untrusted = await startWorkloadIssuer('RS256');
      await trustIssuer(t, {
        id: 'github-actions', issuer: github.issuer, kind: 'github_actions', jwksUri: github.jwksUri, audiences: [CORDON_AUDIENCE],
        bindings: [{
          name: 'acme deploys from main', claims: { repository_owner: 'acme', ref: 'refs/heads/main' }, identityFromClaim: 'sub',
          scopes: ['deployments:read', 'deployments:update'], audiences: ['k8s:prod-cluster'],
        }],
      });
      await trustIssuer(t, {
        id: 'prod-cluster', issuer: kubernetes.issuer, kind: 'kubernetes', jwksUri: kubernetes.jwksUri, audiences: [CORDON_AUDIENCE],
        bindings: [{ claims: { 'kubernetes.io/namespace': 'payments' }, identityFromClaim: 'sub', scopes: ['payments:read', 'payments:write'], audiences: ['api:ledger', 'api:stripe'] }],
      });
    });
    after(async () => {
      await t?.close();
      await Promise.all([github?.close(), kubernetes?.close(), untrusted?.close()]);
    });

    test('a GitHub Actions token from a trusted issuer is exchanged for a Cordon token bound to its identity', async () => {
      const res = await exchange(t, await deploy(), { audience: 'k8s:prod-cluster', scope: 'deployments:update' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.issued_token_type, ACCESS_TOKEN_TYPE);
      assert.equal(body.scope, 'deployments:update');
      assert.equal(body.expires_in, 300);
      const { payload, header } = await verifyWithJwks(t, body.access_token, { typ: 'at+jwt' });
      assert.equal(header.alg, 'EdDSA');
      assert.equal(payload.sub, 'ci-payments-deploy');
      assert.deepEqual(payload.aud, ['k8s:prod-cluster']);
      assert.equal(payload.exp! - payload.iat!, 300);
      const session = await store.db.selectFrom('sessions').selectAll().where('jti', '=', payload.jti!).executeTakeFirstOrThrow();
      assert.equal(session.identityId, 'ci-payments-deploy');
      assert.equal(session.source, 'broker');
      assert.equal(session.status, 'active');
      assert.deepEqual(session.attributes.scopes, ['deployments:update']);
      assert.equal(session.attributes.subjectIssuer, github.issuer);
    });

    test('without scope the token carries everything the binding allows, never more', async () => {
      const res = await exchange(t, await deploy());
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().scope, 'deployments:read deployments:update');
      assert.deepEqual(decodeJwt(res.json().access_token).aud, ['k8s:prod-cluster']);
    });

    test('a token from an untrusted issuer is refused with invalid_request', async () => {
      const foreign = await untrusted.sign(githubActionsClaims('acme/payments', 'environment:production', { aud: CORDON_AUDIENCE }));
      const res = await exchange(t, foreign);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /untrusted issuer/);
      assert.match(res.headers['content-type'] as string, /^application\/json/);
    });

    test('an expired workload token is refused with invalid_request', async () => {
      const expired = await github.sign(githubActionsClaims('acme/payments', 'environment:production', { aud: CORDON_AUDIENCE }), { issuedAgoSeconds: 900, expiresInSeconds: 300 });
      const res = await exchange(t, expired);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), { error: 'invalid_request', error_description: 'subject_token has expired' });
    });

    test('a workload token minted for another audience is refused with invalid_request', async () => {
      const res = await exchange(t, await deploy('environment:production', { aud: 'https://vault.example' }));
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /audience/);
    });

    test('claims that break the binding rule are refused with invalid_request', async () => {
      const feature = await deploy('environment:production', { ref: 'refs/heads/feature' });
      const res = await exchange(t, feature);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /binding rules of issuer github-actions: claim ref is not an allowed value/);
    });

    test('a token signed with a key the issuer does not publish is refused', async () => {
      const forged = await github.sign(githubActionsClaims('acme/payments', 'environment:production', { aud: CORDON_AUDIENCE }), { key: 'stranger' });
      const res = await exchange(t, forged);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /signature/);
    });

    test('a GitHub token whose sub does not name its repository is refused', async () => {
      const res = await exchange(t, await deploy('environment:production', { repository: 'acme/other' }));
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /does not name its repository/);
    });

    test('a token bound to an identity the inventory does not have is refused', async () => {
      const res = await exchange(t, await github.sign(githubActionsClaims('acme/ghost', 'environment:production', { aud: CORDON_AUDIENCE })));
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /not \(or not uniquely\) in the inventory/);
    });

    test('a scope beyond the binding is invalid_scope and an audience beyond it invalid_target', async () => {
      const token = await deploy();
      const scope = await exchange(t, token, { scope: 'deployments:update clusters:admin' });
      assert.equal(scope.statusCode, 400);
      assert.equal(scope.json().error, 'invalid_scope');
      assert.match(scope.json().error_description, /clusters:admin/);
      const target = await exchange(t, token, { audience: 'api:stripe' });
      assert.equal(target.json().error, 'invalid_target');
      const resource = await exchange(t, token, { resource: 'https://stripe.example/v1' });
      assert.equal(resource.json().error, 'invalid_target');
    });

    test('a Kubernetes projected service-account token is bound by its service account', async () => {
      const token = await kubernetes.sign({ ...kubernetesClaims('payments', 'payments-api'), aud: CORDON_AUDIENCE });
      const res = await exchange(t, token, { audience: 'api:ledger', scope: 'payments:read' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(decodeJwt(res.json().access_token).sub, 'wl-payments-api');
    });

    test('a Kubernetes token whose kubernetes.io claims contradict its sub is refused', async () => {
      const claims = kubernetesClaims('payments', 'payments-api');
      const token = await kubernetes.sign({ ...claims, 'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'settlement' } }, aud: CORDON_AUDIENCE });
      const res = await exchange(t, token, { audience: 'api:ledger' });
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /do not match its sub/);
    });

    test('several allowed audiences and none asked for is invalid_request', async () => {
      const token = await kubernetes.sign({ ...kubernetesClaims('payments', 'payments-api'), aud: CORDON_AUDIENCE });
      const res = await exchange(t, token);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /audience or resource is required/);
    });

    test('an identity that is not active gets no token, whatever its workload token says', async () => {
      await sql`update identities set status = 'disabled' where id = 'wl-payments-batch'`.execute(store.db);
      const token = await kubernetes.sign({ ...kubernetesClaims('payments', 'settlement'), aud: CORDON_AUDIENCE });
      const res = await exchange(t, token, { audience: 'api:ledger' });
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /wl-payments-batch, which may not receive tokens \(guard:identity-disabled\)/);
    });

    test('the issuer\'s keys are fetched once and cached', async () => {
      await exchange(t, await deploy());
      await exchange(t, await deploy());
      assert.equal(github.jwksFetches(), 1);
    });

    test('grant types other than token exchange are unsupported_grant_type', async () => {
      const res = await postForm(t, '/oauth2/token', { grant_type: 'client_credentials', subject_token: 'x', subject_token_type: ACCESS_TOKEN_TYPE });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'unsupported_grant_type');
    });

    test('a missing, repeated or unknown-typed parameter is invalid_request', async () => {
      const missing = await postForm(t, '/oauth2/token', { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE });
      assert.equal(missing.json().error, 'invalid_request');
      const token = await deploy();
      const repeated = await exchange(t, token, { scope: ['deployments:read', 'deployments:update'] });
      assert.deepEqual(repeated.json(), { error: 'invalid_request', error_description: 'scope was given more than once' });
      const type = await exchange(t, token, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' });
      assert.equal(type.json().error, 'invalid_request');
      const actorType = await exchange(t, token, { actor_token: token });
      assert.deepEqual(actorType.json(), { error: 'invalid_request', error_description: 'actor_token_type is required with actor_token' });
    });

    test('a JSON body is refused: the token endpoint takes form-encoded parameters', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth2/token', headers: t.auth('workload'), payload: { grant_type: TOKEN_EXCHANGE } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
    });

    test('without an API token the client is invalid_client; a reader is unauthorized_client', async () => {
      const anonymous = await exchange(t, await deploy(), {}, null);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.json().error, 'invalid_client');
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="cordon"');
      const viewer = await exchange(t, await deploy(), {}, 'viewer');
      assert.equal(viewer.statusCode, 400);
      assert.equal(viewer.json().error, 'unauthorized_client');
    });

    test('a static JWKS with private key material is refused naming the field', async () => {
      const res = await t.app.inject({
        method: 'PUT', url: '/v1/broker/issuers/leaky', headers: t.auth('admin'),
        payload: { id: 'leaky', issuer: 'https://leaky.example', kind: 'oidc', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, audiences: ['x'], bindings: [{ identity: 'svc-payments-api', scopes: [], audiences: ['y'] }] },
      });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json().errors.map((e: { path: string }) => e.path), ['/jwks/keys/0/k']);
    });

    test('neither the workload token nor the issued token is kept in a table or a log line', async () => {
      const workload = await deploy();
      const res = await exchange(t, workload, { scope: 'deployments:read' });
      const issued = res.json().access_token as string;
      const signature = (token: string) => token.split('.')[2]!;
      const dump = await dumpDatabase(store.db);
      for (const token of [workload, issued]) {
        assert.ok(!dump.includes(signature(token)), 'database');
        assert.ok(!t.logs.text.includes(signature(token)), 'logs');
      }
      assert.ok(dump.includes(decodeJwt(issued).jti!), 'the session is recorded by its jti');
    });

    test('each issued token is in the audit chain, by the client that asked for it', async () => {
      const res = await exchange(t, await deploy(), { scope: 'deployments:read' });
      const jti = decodeJwt(res.json().access_token).jti!;
      const records = await store.db.selectFrom('auditLog').select(['actorSubject', 'payload']).where('action', '=', 'broker.tokens.issued').execute();
      const record = records.find((r) => ((r.payload.byIdentity as Record<string, string[]>)['ci-payments-deploy'] ?? []).includes(jti));
      assert.equal(record?.actorSubject, 'workload-user');
      assert.equal((await verifyAudit(store.db)).ok, true);
    });
  });
}
