import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { addPolicy, exchange, trustIssuer } from '../helpers/broker.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore } from '../helpers/store.js';
import { githubActionsClaims, startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const CORDON_AUDIENCE = 'https://cordon.test';

describe('token exchange decided by the Cedar policies', () => {
  let t: TestApp;
  let github: WorkloadIssuer;
  const deploy = () => github.sign(githubActionsClaims('acme/payments', 'environment:production', { aud: CORDON_AUDIENCE }));

  before(async () => {
    const store = await openTestStore('pglite');
    await seedExampleInventory(store.db);
    t = await startTestApp(store);
    github = await startWorkloadIssuer('RS256');
    await t.app.inject({
      method: 'PUT', url: '/v1/broker/issuers/github-actions', headers: t.auth('admin'),
      payload: {
        id: 'github-actions', issuer: github.issuer, kind: 'github_actions', jwksUri: github.jwksUri, audiences: [CORDON_AUDIENCE],
        bindings: [{ claims: { repository_owner: 'acme' }, identityFromClaim: 'sub', scopes: ['deployments:update'], audiences: ['k8s:prod-cluster', 'api:ledger'] }],
      },
    });
  });
  after(async () => {
    await t?.close();
    await github?.close();
  });

  test('with only the shipped policies, an exchange no policy permits is refused (default deny)', async () => {
    const res = await exchange(t, await deploy(), { audience: 'k8s:prod-cluster' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_target');
    assert.match(res.json().error_description, /policy does not allow ci-payments-deploy a token for k8s:prod-cluster/);
  });

  test('a permit for the identity\'s type lets the exchange through, and the decision is logged', async () => {
    await addPolicy(t, 'ci-deploys.cedar', '@id("ci.deploys")\npermit (principal is Cordon::CiToken, action == Cordon::Action::"token.exchange", resource == Cordon::Resource::"k8s:prod-cluster")\nwhen { context has scopes && context.scopes.contains("deployments:update") && context has client && context.client == "' + (await tokenId(t)) + '" };');
    const res = await exchange(t, await deploy(), { audience: 'k8s:prod-cluster', scope: 'deployments:update' });
    assert.equal(res.statusCode, 200, res.body);
    await t.context.decisions.close();
    const logged = await t.context.db.selectFrom('policyDecisions').select(['principalId', 'decision', 'reasons']).where('action', '=', 'token.exchange').execute();
    assert.ok(logged.some((d) => d.principalId === 'ci-payments-deploy' && d.decision === 'allow' && d.reasons.includes('ci.deploys')));
  });

  test('a forbid wins over the permit, and the refusal names it', async () => {
    await addPolicy(t, 'freeze.cedar', '@id("freeze.prod-deploys")\nforbid (principal, action == Cordon::Action::"token.exchange", resource == Cordon::Resource::"k8s:prod-cluster");');
    const res = await exchange(t, await deploy(), { audience: 'k8s:prod-cluster', scope: 'deployments:update' });
    assert.equal(res.json().error, 'invalid_target');
    assert.match(res.json().error_description, /freeze\.prod-deploys/);
  });

  test('a quarantined identity is refused whatever the policies say', async () => {
    await trustIssuer(t, { id: 'github-actions', issuer: github.issuer, kind: 'github_actions', jwksUri: github.jwksUri, audiences: [CORDON_AUDIENCE], bindings: [{ claims: { repository_owner: 'acme' }, identityFromClaim: 'sub', scopes: ['deployments:update'], audiences: ['k8s:prod-cluster'] }] });
    assert.equal((await exchange(t, await deploy(), { audience: 'k8s:prod-cluster' })).statusCode, 200, 'every exchange is permitted now');
    await t.context.db.updateTable('identities').set({ status: 'quarantined' }).where('id', '=', 'ci-payments-deploy').execute();
    const res = await exchange(t, await deploy(), { audience: 'k8s:prod-cluster' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error_description, /ci-payments-deploy/);
  });
});

/** The workload API token's id: the broker names the API client by it in `context.client`. */
async function tokenId(t: TestApp): Promise<string> {
  const tokens = await t.context.tokens.listTokens();
  return tokens.find((token) => token.role === 'workload')!.id;
}
