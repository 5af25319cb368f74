import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiRole } from '../../src/domain/roles.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { raiseDetection, settledResponse, startResponder, waitFor } from '../helpers/respond.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip } from '../helpers/store.js';

/** Steps that need approval, on an action that touches no external system (watching an identity). */
const playbook = (id: string, type: string, approval: string) => `apiVersion: cordon/v1
kind: Playbook
id: ${id}
title: ${id}
match:
  types: [${type}]
tiers:
  - name: watch
    steps:
      - id: watch
        action: raise_monitoring
        approval:
${approval}
      - id: after
        action: raise_monitoring
        params:
          duration: 1h
`;

const PLAYBOOKS = {
  'quorum.yaml': playbook('quorum', 'new_source', '          required: true\n          quorum: 2'),
  'approve-on-timeout.yaml': playbook('approve-on-timeout', 'unusual_destination', '          required: true\n          timeout: 1s\n          default: approve'),
  'deny-on-timeout.yaml': playbook('deny-on-timeout', 'stale_reactivated', '          required: true\n          timeout: 1s\n          default: deny'),
};

for (const kind of STORE_KINDS) {
  describe(`approvals on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let dir: string;
    let t: TestApp;
    let responder: ReturnType<typeof startResponder>;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cordon-approvals-'));
      for (const [file, text] of Object.entries(PLAYBOOKS)) await writeFile(join(dir, file), text);
      t = await startTestApp(await openTestStore(kind), { CORDON_PLAYBOOK_DIR: dir });
      await seedExampleInventory(t.context.db, t.context.fingerprint);
      responder = startResponder(t);
    });
    after(async () => {
      await responder?.stop();
      await t?.close();
      await rm(dir, { recursive: true, force: true });
    });

    const decide = (runId: string, verb: 'approve' | 'deny', role: ApiRole, payload: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: `/v1/actions/${runId}/${verb}`, headers: t.auth(role), payload });
    const waiting = async (type: 'new_source' | 'unusual_destination' | 'stale_reactivated', identityId: string, requester = 'sender-user') => {
      const detection = await raiseDetection(t, { type, severity: 'medium', confidence: 'low', identityId, requestedBy: { id: `token:${requester}`, subject: requester } });
      const runs = await settledResponse(t, responder, detection, ['awaiting_approval']);
      return { detection, runs, watch: runs.find((r) => r.stepId === 'watch')! };
    };

    test('a step with a quorum of two needs two different people', async () => {
      const { detection, watch } = await waiting('new_source', 'svc-orders-api');
      assert.equal(watch.state, 'awaiting_approval');
      const first = await decide(watch.id, 'approve', 'approver', { planDigest: watch.planDigest });
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().decided, false);
      assert.equal(first.json().action.state, 'awaiting_approval');
      const again = await decide(watch.id, 'approve', 'approver', { planDigest: watch.planDigest });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'ERR_ALREADY_APPROVED');
      const second = await decide(watch.id, 'approve', 'admin', { planDigest: watch.planDigest });
      assert.equal(second.json().decided, true);
      assert.deepEqual(second.json().action.approval.approvals.map((a: { subject: string }) => a.subject), ['approver-user', 'admin-user']);
      const runs = await settledResponse(t, responder, detection);
      assert.deepEqual(runs.map((r) => [r.stepId, r.state]), [['watch', 'verified'], ['after', 'verified']]);
      const watches = await t.context.db.selectFrom('monitoringWatches').select('identityId').where('runId', '=', watch.id).execute();
      assert.deepEqual(watches, [{ identityId: 'svc-orders-api' }]);
    });

    test('whoever asked may not approve; an admin may break glass alone, with a reason, audited as such', async () => {
      const { detection, watch } = await waiting('new_source', 'svc-orders-worker', 'admin-user');
      const self = await decide(watch.id, 'approve', 'admin', { planDigest: watch.planDigest });
      assert.equal(self.statusCode, 403);
      assert.equal(self.json().code, 'ERR_SELF_APPROVAL');
      const notAdmin = await decide(watch.id, 'approve', 'approver', { planDigest: watch.planDigest, breakGlass: true, reason: 'the on-call admin is asleep' });
      assert.equal(notAdmin.statusCode, 403);
      assert.equal(notAdmin.json().code, 'ERR_BREAK_GLASS_ROLE');
      const noReason = await decide(watch.id, 'approve', 'admin', { planDigest: watch.planDigest, breakGlass: true });
      assert.equal(noReason.statusCode, 400);
      assert.deepEqual(noReason.json().errors.map((e: { path: string }) => e.path), ['/reason']);
      const glass = await decide(watch.id, 'approve', 'admin', { planDigest: watch.planDigest, breakGlass: true, reason: 'attacker active, nobody else reachable' });
      assert.equal(glass.statusCode, 200, glass.body);
      assert.equal(glass.json().decided, true, 'break-glass needs no quorum');
      await settledResponse(t, responder, detection);
      const audit = await t.context.db.selectFrom('auditLog').select(['actorSubject', 'payload']).where('action', '=', 'action.break_glass').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actorSubject, 'admin-user');
      assert.match(String((audit[0]!.payload as { summary: string }).summary), /BREAK-GLASS.*attacker active/);
    });

    test('a denied step is not run, the steps after it are, and the incident waits for a human', async () => {
      const { detection, watch } = await waiting('new_source', 'svc-session-cache');
      const viewer = await decide(watch.id, 'deny', 'viewer', { reason: 'no' });
      assert.equal(viewer.statusCode, 403);
      const denied = await decide(watch.id, 'deny', 'approver', { reason: 'expected: a new CI runner' });
      assert.equal(denied.statusCode, 200, denied.body);
      const runs = await settledResponse(t, responder, detection);
      assert.deepEqual(runs.map((r) => [r.stepId, r.state]), [['watch', 'denied'], ['after', 'verified']]);
      assert.equal(runs[0]!.error, 'expected: a new CI runner');
      const incident = await t.context.db.selectFrom('incidents').select(['status', 'containedAt']).where('id', '=', watch.incidentId).executeTakeFirstOrThrow();
      assert.equal(incident.status, 'triage');
      assert.equal(incident.containedAt, null, 'nothing contained');
      const late = await decide(watch.id, 'approve', 'admin', { planDigest: watch.planDigest });
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().code, 'ERR_ACTION_NOT_AWAITING_APPROVAL');
    });

    test('an undecided step gets its default when its timeout passes: approve', async () => {
      const detection = await raiseDetection(t, { type: 'unusual_destination', severity: 'medium', confidence: 'low', identityId: 'svc-legacy-reports' });
      const runs = await settledResponse(t, responder, detection);
      assert.deepEqual(runs.map((r) => [r.stepId, r.state]), [['watch', 'verified'], ['after', 'verified']]);
      const approvals = await t.context.db.selectFrom('actionApprovals').select(['subject', 'decision', 'reason']).where('runId', '=', runs[0]!.id).execute();
      assert.equal(approvals.length, 1);
      assert.equal(approvals[0]!.subject, 'system');
      assert.match(approvals[0]!.reason!, /default is to approve/);
    });

    test('an undecided step gets its default when its timeout passes: deny', async () => {
      const detection = await raiseDetection(t, { type: 'stale_reactivated', severity: 'medium', confidence: 'low', identityId: 'db-etl-writer' });
      const runs = await waitFor('the default decision', async () => {
        const found = await settledResponse(t, responder, detection, ['awaiting_approval']);
        return found[0]!.state === 'denied' && found[1]!.state === 'verified' ? found : undefined;
      }, [t.context.executor.events, responder.worker.events]);
      assert.equal(runs[0]!.errorCode, 'ERR_APPROVAL_TIMEOUT');
      const audit = await t.context.db.selectFrom('auditLog').select('actor').where('action', '=', 'action.denied_by_timeout').execute();
      assert.deepEqual(audit, [{ actor: 'system:approval-timeout' }]);
    });
  });
}
