import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyEvidenceChain, type EvidenceItem } from '../../src/incidents/evidence.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { raiseDetection, settledResponse, startResponder } from '../helpers/respond.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip } from '../helpers/store.js';

/** A step that waits for approval (no external system), and one that runs. */
const PLAYBOOK = `apiVersion: cordon/v1
kind: Playbook
id: watch-with-approval
title: Watch, with approval
match:
  types: [new_source, unusual_destination]
tiers:
  - name: watch
    steps:
      - id: watch
        action: raise_monitoring
        approval:
          required: true
      - id: evidence
        action: snapshot_evidence
`;

for (const kind of STORE_KINDS) {
  describe(`the incident workspace on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let dir: string;
    let t: TestApp;
    let responder: ReturnType<typeof startResponder>;
    const get = (url: string, role: 'viewer' | 'admin' = 'viewer') => t.app.inject({ method: 'GET', url, headers: t.auth(role) });
    const post = (url: string, payload: unknown, role: 'responder' | 'approver' | 'admin' | 'viewer' = 'responder') => t.app.inject({ method: 'POST', url, headers: t.auth(role), payload: payload as object });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cordon-workspace-'));
      await writeFile(join(dir, 'watch.yaml'), PLAYBOOK);
      t = await startTestApp(await openTestStore(kind), { CORDON_PLAYBOOK_DIR: dir });
      await seedExampleInventory(t.context.db, t.context.fingerprint);
      responder = startResponder(t);
    });
    after(async () => {
      await responder?.stop();
      await t?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('two detections on one identity make one incident with both linked', async () => {
      const first = await raiseDetection(t, { type: 'new_source', severity: 'medium', confidence: 'low', identityId: 'svc-payments-api' });
      await settledResponse(t, responder, first, ['awaiting_approval']);
      const second = await raiseDetection(t, { type: 'unusual_destination', severity: 'high', confidence: 'low', identityId: 'svc-payments-api' });
      await settledResponse(t, responder, second, ['awaiting_approval']);
      const listed = await get('/v1/incidents?identity=svc-payments-api');
      assert.equal(listed.json().items.length, 1);
      const incident = (await get(`/v1/incidents/${listed.json().items[0].id}`)).json();
      assert.deepEqual(incident.detections.map((d: { id: string }) => d.id).sort(), [first, second].sort());
      assert.equal(incident.severity, 'high', 'the severity of the worst detection');
      assert.equal(incident.responses.length, 2);
      assert.ok(incident.timeline.some((e: { kind: string }) => e.kind === 'detection.linked'));
    });

    test('when an incident opens it keeps the detection as evidence, a recovery checklist and a blast-radius snapshot', async () => {
      const detection = await raiseDetection(t, { type: 'new_source', severity: 'medium', confidence: 'low', identityId: 'svc-payments-reconciler' });
      const [run] = await settledResponse(t, responder, detection, ['awaiting_approval']);
      const incident = (await get(`/v1/incidents/${run!.incidentId}`)).json();
      assert.ok(incident.evidence.some((e: { kind: string; ref: string }) => e.kind === 'detection' && e.ref === `detection:${detection}`));
      assert.ok(incident.evidence.some((e: { kind: string }) => e.kind === 'blast_radius'));
      assert.equal(incident.blastRadius.identityId, 'svc-payments-reconciler');
      // The reconciler shares its password with the payments API, which is customer-facing: not safe to revoke.
      assert.equal(incident.blastRadius.revocationImpact.safeToRevoke, false);
      assert.ok(incident.blastRadius.revocationImpact.consumers.some((c: { identityId: string; relation: string }) => c.identityId === 'svc-payments-api' && c.relation === 'shares_credential'));
      const recovery = incident.tasks.filter((task: { kind: string }) => task.kind === 'recovery');
      assert.deepEqual(recovery.map((task: { title: string }) => task.title), ['Verify integrity', 'Restore normal access']);
      assert.equal(recovery[0].team, 'payments');
      const refreshed = await post(`/v1/incidents/${incident.id}/blast-radius`, {});
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      const after = (await get(`/v1/incidents/${incident.id}`)).json();
      assert.equal(after.evidence.filter((e: { kind: string }) => e.kind === 'blast_radius').length, 2);
    });

    test('an incident cannot be closed while a step awaits approval, unless an admin forces it with a reason (audited)', async () => {
      const detection = await raiseDetection(t, { type: 'new_source', severity: 'medium', confidence: 'low', identityId: 'svc-orders-api' });
      const [watch] = await settledResponse(t, responder, detection, ['awaiting_approval']);
      assert.equal(watch!.state, 'awaiting_approval');
      const url = `/v1/incidents/${watch!.incidentId}/status`;
      const noReason = await post(url, { status: 'closed' });
      assert.equal(noReason.statusCode, 400);
      const refused = await post(url, { status: 'closed', reason: 'false positive' });
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().code, 'ERR_INCIDENT_NOT_CLOSABLE');
      assert.match(refused.json().detail, /raise_monitoring on orders_api@% \(svc-orders-api\) is awaiting_approval/);
      const notAdmin = await post(url, { status: 'closed', reason: 'false positive, closing anyway', force: true });
      assert.equal(notAdmin.statusCode, 403);
      assert.equal(notAdmin.json().code, 'ERR_FORCE_CLOSE_ROLE');
      const shortReason = await post(url, { status: 'closed', reason: 'fp', force: true }, 'admin');
      assert.equal(shortReason.statusCode, 400);
      const forced = await post(url, { status: 'closed', reason: 'false positive: the new source is our CI runner', force: true }, 'admin');
      assert.equal(forced.statusCode, 200, forced.body);
      const incident = (await get(`/v1/incidents/${watch!.incidentId}`)).json();
      assert.equal(incident.status, 'closed');
      assert.equal(incident.closeReason, 'false positive: the new source is our CI runner');
      assert.deepEqual(incident.actions.map((a: { stepId: string; state: string }) => [a.stepId, a.state]), [['watch', 'cancelled'], ['evidence', 'cancelled']]);
      const audit = await t.context.db.selectFrom('auditLog').select(['actorSubject', 'payload']).where('action', '=', 'incident.force_closed').where('subject', '=', `incident:${incident.id}`).execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actorSubject, 'admin-user');
    });

    test('an incident whose steps are over closes with a reason; contained is never set by hand', async () => {
      const detection = await raiseDetection(t, { type: 'new_source', severity: 'low', confidence: 'low', identityId: 'svc-orders-worker' });
      const [watch] = await settledResponse(t, responder, detection, ['awaiting_approval']);
      const url = `/v1/incidents/${watch!.incidentId}/status`;
      const contained = await post(url, { status: 'contained' });
      assert.equal(contained.statusCode, 409);
      assert.match(contained.json().detail, /only when its containment actions are verified/);
      assert.equal((await post(`/v1/actions/${watch!.id}/deny`, { reason: 'expected' }, 'approver')).statusCode, 200);
      await settledResponse(t, responder, detection);
      assert.equal((await post(url, { status: 'closed', reason: 'expected change' })).statusCode, 200);
      const reopened = await post(url, { status: 'triage', reason: 'it happened again' });
      assert.equal(reopened.statusCode, 200);
      const incident = (await get(`/v1/incidents/${watch!.incidentId}`)).json();
      assert.equal(incident.status, 'triage');
      assert.equal(incident.closedAt, null);
    });

    test('incidents opened by hand, their fields, notes and tasks; each change on the timeline with its actor', async () => {
      const created = await post('/v1/incidents', { title: 'Suspicious token use reported by a partner', severity: 'high', identityIds: ['agent-support'], tlp: 'red', summary: 'Partner says our agent called them at 3am.' });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id as string;
      const unknown = await post('/v1/incidents', { title: 'x', severity: 'low', identityIds: ['nobody'] });
      assert.equal(unknown.statusCode, 400);
      assert.deepEqual(unknown.json().errors.map((e: { path: string }) => e.path), ['/identityIds/0']);
      assert.equal((await post('/v1/incidents', { title: 'x', severity: 'low' }, 'viewer')).statusCode, 403);
      const patched = await t.app.inject({ method: 'PATCH', url: `/v1/incidents/${id}`, headers: t.auth('responder'), payload: { assignee: 'alice', teams: ['ml', 'soc'] } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal((await post(`/v1/incidents/${id}/notes`, { text: 'Called the partner; they sent logs.' }, 'approver')).statusCode, 201);
      let incident = (await get(`/v1/incidents/${id}`)).json();
      assert.equal(incident.status, 'new');
      assert.equal(incident.tlp, 'red');
      assert.deepEqual([incident.assignee, incident.teams], ['alice', ['ml', 'soc']]);
      const task = incident.tasks.find((x: { kind: string }) => x.kind === 'recovery');
      const done = await t.app.inject({ method: 'PATCH', url: `/v1/incidents/${id}/tasks/${encodeURIComponent(task.id)}`, headers: t.auth('responder'), payload: { status: 'done' } });
      assert.equal(done.statusCode, 200, done.body);
      incident = (await get(`/v1/incidents/${id}`)).json();
      assert.equal(incident.tasks.find((x: { id: string }) => x.id === task.id).doneBy, 'responder-user');
      const kinds = incident.timeline.map((e: { kind: string; actor: string }) => [e.kind, e.actor]);
      for (const [entry, actor] of [['incident.opened', 'responder'], ['incident.updated', 'responder'], ['note.added', 'approver'], ['task.updated', 'responder']]) {
        assert.ok(kinds.some(([k, a]: [string, string]) => k === entry && a.startsWith('token:')), `${entry} by a token`);
        assert.ok(incident.timeline.some((e: { kind: string; summary: string }) => e.kind === entry), `${entry} by ${actor}`);
      }
      const times = incident.timeline.map((e: { at: string }) => Date.parse(e.at));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in time order');
      assert.ok(incident.evidence.some((e: { kind: string }) => e.kind === 'note'));
    });

    test('the evidence chain exports with contents and hashes that a third party can check, and a changed row is named', async () => {
      const { items: [incident] } = (await get('/v1/incidents?identity=agent-support')).json();
      const exported = (await get(`/v1/incidents/${incident.id}/evidence`)).json();
      assert.equal(exported.verification.ok, true);
      assert.ok(exported.items.length >= 2);
      const items = exported.items.map((i: EvidenceItem & { collectedAt: string }) => ({ ...i, collectedAt: new Date(i.collectedAt) }));
      assert.equal(verifyEvidenceChain(items).ok, true, 'checked from the export alone');
      const tampered = items.map((i: EvidenceItem, n: number) => (n === 1 ? { ...i, content: { text: 'nothing happened' } } : i));
      assert.deepEqual(verifyEvidenceChain(tampered).firstBad, { id: items[1].id, seq: items[1].seq, reason: 'its content does not match its digest' });
      await t.context.db.updateTable('evidenceItems').set({ title: 'edited' }).where('id', '=', items[0].id).execute();
      const verified = (await get(`/v1/incidents/${incident.id}/evidence/verify`)).json();
      assert.equal(verified.ok, false);
      assert.deepEqual(verified.firstBad, { id: items[0].id, seq: items[0].seq, reason: 'its fields do not match its hash' });
    });

    test('metrics over the API and in Prometheus format', async () => {
      const metrics = (await get('/v1/metrics/incidents')).json();
      assert.ok(metrics.incidents.total >= 4, JSON.stringify(metrics.incidents));
      assert.ok(metrics.incidents.byStatus.closed >= 1);
      assert.equal(metrics.series.length, metrics.incidents.total);
      assert.ok(metrics.timeToDetect.count >= 1, JSON.stringify(metrics.timeToDetect));
      const prometheus = await get('/metrics');
      assert.equal(prometheus.statusCode, 200);
      assert.match(prometheus.headers['content-type'] as string, /^text\/plain/);
      assert.match(prometheus.body, /^cordon_incidents\{status="closed"\} \d+$/m);
      assert.match(prometheus.body, /^cordon_incidents_open\{severity="high"\} \d+$/m);
      assert.match(prometheus.body, /^cordon_actions_awaiting_approval \d+$/m);
      assert.match(prometheus.body, /^cordon_time_to_detect_seconds\{quantile="0.5"\} [\d.e-]+$/m);
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    });
  });
}
