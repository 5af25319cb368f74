import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { accessToken, introspect, JWT_TYPE, trustIssuer } from '../helpers/broker.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { raiseDetection, settledResponse, startResponder, waitFor } from '../helpers/respond.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const AUD = 'https://cordon.test';

/** The shipped playbooks, and one that quarantines for a second (to see a quarantine expire). */
const SHORT_QUARANTINE = `apiVersion: cordon/v1
kind: Playbook
id: short-quarantine
title: Short quarantine
priority: 999
match:
  types: [lateral_movement]
  identityKinds: [ai_agent]
tiers:
  - name: contain
    steps:
      - id: quarantine
        action: quarantine
        params:
          ttl: 1s
`;

for (const kind of STORE_KINDS) {
  describe(`an agent's broker tokens contained by playbooks (store: ${kind})`, { skip: await storeSkip(kind) }, () => {
    let dir: string;
    let t: TestApp;
    let responder: ReturnType<typeof startResponder>;
    let runtime: WorkloadIssuer;
    const own = (agent: string) => runtime.sign({ sub: agent, aud: AUD });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cordon-playbooks-'));
      await cp(join(REPO_ROOT, 'playbooks'), dir, { recursive: true });
      await writeFile(join(dir, 'short-quarantine.yaml'), SHORT_QUARANTINE);
      t = await startTestApp(await openTestStore(kind), { CORDON_PLAYBOOK_DIR: dir });
      await seedExampleInventory(t.context.db, t.context.fingerprint);
      runtime = await startWorkloadIssuer('EdDSA');
      const agent = (id: string) => ({ claims: { sub: id }, identity: id, scopes: ['ledger:read'], audiences: ['api:ledger'] });
      await trustIssuer(t, { id: 'rt', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: [AUD], bindings: ['agent-refunds', 'agent-support', 'agent-ledger-reader'].map(agent) });
      responder = startResponder(t);
    });
    after(async () => {
      await responder?.stop();
      await t?.close();
      await runtime?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('an agent acting off-hours with privileges: its tokens quarantined and delegations revoked, verified, and the incident escalated', async () => {
      const held = await accessToken(t, await own('agent-refunds'));
      const delegated = await accessToken(t, await own('agent-support'), { actor_token: await own('agent-refunds'), actor_token_type: JWT_TYPE });
      const bystander = await accessToken(t, await own('agent-ledger-reader'));
      const detection = await raiseDetection(t, { type: 'off_hours_privileged', severity: 'high', confidence: 'high', identityId: 'agent-refunds' });
      const runs = await settledResponse(t, responder, detection);
      assert.deepEqual(runs.map((r) => [r.stepId, r.performer, r.state]), [
        ['quarantine', 'broker', 'verified'], ['revoke-delegations', 'broker', 'verified'], ['evidence', 'evidence', 'verified'], ['tell-owner', 'notify', 'verified'],
      ]);
      assert.deepEqual(runs[0]!.verification!.checks.map((c) => [c.name, c.passed]), [['broker_quarantined', true], ['identity_quarantined', true]]);
      assert.deepEqual(await introspect(t, held), { active: false });
      assert.deepEqual(await introspect(t, delegated), { active: false }, 'the token it holds for agent-support is revoked');
      assert.equal((await introspect(t, bystander)).active, true);
      // The decision point denies it whatever the policies say.
      const decision = await t.app.inject({ method: 'POST', url: '/v1/authorize', headers: t.auth('workload'), payload: { principal: { type: 'Identity', id: 'agent-refunds' }, action: { type: 'Cordon::Action', id: 'token.exchange' }, resource: { type: 'Cordon::Resource', id: 'api:ledger' } } });
      assert.equal(decision.json().decision, 'deny');
      const incident = await t.context.db.selectFrom('incidents').selectAll().where('id', '=', runs[0]!.incidentId).executeTakeFirstOrThrow();
      assert.equal(incident.escalated, true);
      assert.deepEqual(incident.escalations.map((e) => e.code), ['playbook']);
      assert.equal(incident.status, 'triage', 'escalated to dedicated response: a person decides, it is not reported contained');
      const evidence = await t.context.db.selectFrom('evidenceItems').select(['kind', 'ref']).where('incidentId', '=', incident.id).orderBy('seq').execute();
      assert.ok(evidence.some((e) => e.kind === 'snapshot' && e.ref === `detection:${detection}`), 'the evidence step\'s snapshot');
      assert.deepEqual(evidence.filter((e) => e.kind === 'action').length, 4, 'each step\'s plan, output and proof');
      const tasks = await t.context.db.selectFrom('incidentTasks').select(['team', 'kind', 'title']).where('incidentId', '=', incident.id).orderBy('createdAt').execute();
      assert.deepEqual(tasks.filter((x) => x.kind !== 'recovery').map(({ team, kind }) => ({ team, kind })), [{ team: 'ml', kind: 'investigate' }]);
      assert.deepEqual(tasks.filter((x) => x.kind === 'recovery').map((x) => x.title), ['Review what the agent did', 'Release the quarantine or disable the agent', 'Verify integrity']);
    });

    test('a quarantine ends by itself at the end of its ttl: the identity is active again and gets tokens', async () => {
      const detection = await raiseDetection(t, { type: 'lateral_movement', severity: 'high', confidence: 'high', identityId: 'agent-ledger-reader' });
      const [quarantine] = await settledResponse(t, responder, detection);
      assert.equal(quarantine!.state, 'verified');
      const status = () => t.context.db.selectFrom('identities').select('status').where('id', '=', 'agent-ledger-reader').executeTakeFirstOrThrow();
      await waitFor('the quarantine to expire', async () => (await status()).status === 'active', [responder.worker.events]);
      const released = await t.context.db.selectFrom('auditLog').select(['actor', 'payload']).where('action', '=', 'identity.status_changed').where('subject', '=', 'identity:agent-ledger-reader').orderBy('seq').execute();
      assert.deepEqual(released.map((r) => [r.actor, (r.payload as { to: string }).to]), [['playbook:short-quarantine@1', 'quarantined'], ['system:quarantine-expiry', 'active']]);
      await waitFor('the broker to issue tokens again', async () => (await introspect(t, await accessToken(t, await own('agent-ledger-reader')))).active, [responder.worker.events]);
    });
  });
}
