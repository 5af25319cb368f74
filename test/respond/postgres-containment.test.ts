import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { newSecret, uniqueName } from '../helpers/connectors.js';
import { dumpDatabase } from '../helpers/dump.js';
import { PASSWORD_AUTH_GROUP, passwordAuthSkip } from '../helpers/password-auth.js';
import { leakedInGitleaks, runsOf, settledRuns, startResponder, waitFor } from '../helpers/respond.js';
import { skipUnless } from '../helpers/services.js';
import { adminQuery, openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { loginPostgres, postgresSession, type LiveSession } from '../helpers/logins.js';

const skip = (await skipUnless('postgres')) || (await passwordAuthSkip());

async function sessionsOf(role: string): Promise<number> {
  return Number((await adminQuery('select count(*)::int as n from pg_stat_activity where usename = $1', [role])).rows[0].n);
}

for (const kind of STORE_KINDS) {
  describe(`detection to verified containment on the real PostgreSQL (Cordon store: ${kind})`, { skip: skip || await storeSkip(kind) }, () => {
    const database = uniqueName('cordon_t_e2e');
    const roles = { plain: uniqueName('cordon_t_app'), facing: uniqueName('cordon_t_facing') };
    const secrets = { plain: newSecret(), facing: newSecret() };
    let store: TestStore;
    let t: TestApp;
    let responder: ReturnType<typeof startResponder>;
    const sessions: LiveSession[] = [];

    before(async () => {
      await adminQuery(`create database ${database}`);
      for (const k of ['plain', 'facing'] as const) {
        await adminQuery(`create role ${roles[k]} login password '${secrets[k]}' in role ${PASSWORD_AUTH_GROUP}`);
      }
      store = await openTestStore(kind);
      t = await startTestApp(store);
      const inventory = {
        apiVersion: 'cordon/v1', kind: 'Inventory',
        teams: [{ id: 'payments', name: 'Payments', responsibility: 'app' }],
        connectors: [{ id: 'pg-e2e', type: 'postgres', environment: 'production', params: { host: '127.0.0.1', port: 5432, database, user: 'postgres' } }],
        identities: [
          {
            id: 'svc-ledger', kind: 'db_role', name: 'ledger writer', provider: 'postgres', connector: 'pg-e2e', externalRef: roles.plain,
            environment: 'production', owners: { team: 'payments' }, credentials: [{ name: 'password', type: 'password', value: secrets.plain }],
          },
          {
            id: 'svc-checkout', kind: 'db_role', name: 'checkout', provider: 'postgres', connector: 'pg-e2e', externalRef: roles.facing,
            environment: 'production', owners: { team: 'payments' }, tags: ['customer-facing'],
            credentials: [{ name: 'password', type: 'password', value: secrets.facing, delivery: { kind: 'file', path: 'checkout/db-password' } }],
          },
        ],
      };
      const imported = await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: inventory });
      assert.equal(imported.statusCode, 200, imported.body);
      responder = startResponder(t);
    });

    after(async () => {
      await responder?.stop();
      for (const s of sessions) await s.close();
      await t?.close();
      await adminQuery(`drop database if exists ${database} with (force)`);
      for (const role of Object.values(roles)) await adminQuery(`drop role if exists ${role}`);
    });

    test('a dry run shows the exact plan, read from the server, and changes nothing', async () => {
      sessions.push(await postgresSession(database, roles.plain, secrets.plain), await postgresSession(database, roles.plain, secrets.plain));
      const pids = (await adminQuery('select pid from pg_stat_activity where usename = $1 order by pid', [roles.plain])).rows.map((r) => r.pid as number);
      // Loading the playbook directory records its versions once; the dry run itself records nothing.
      await t.context.playbooks.ready();
      const auditBefore = (await t.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: t.auth('viewer') })).json().checked;
      const dry = await t.app.inject({
        method: 'POST', url: '/v1/playbooks/dry-run', headers: t.auth('responder'),
        payload: { type: 'secret_exposure', severity: 'high', confidence: 'confirmed', identityId: 'svc-checkout', credentialId: 'svc-checkout/password' },
      });
      assert.equal(dry.statusCode, 200, dry.body);
      assert.equal(dry.json().playbook.id, 'secret-exposure-confirmed');
      const steps = dry.json().runs as { stepId: string; performer: string; disposition: string; approval: { reasons: string[] } | null; diff: { changes: { op: string; object: string }[] } }[];
      assert.deepEqual(steps.map((r) => [r.stepId, r.performer, r.disposition]), [
        ['rotate', 'connector:pg-e2e', 'run'], ['revoke-sessions', 'connector:pg-e2e', 'run'], ['disable', 'connector:pg-e2e', 'run'],
        ['evidence', 'evidence', 'run'], ['tell-owner', 'notify', 'run'],
      ]);
      assert.deepEqual(steps[0]!.diff.changes.map((c) => [c.op, c.object]), [['alter_password', `role ${roles.facing}`]]);
      assert.deepEqual(steps[2]!.diff.changes.map((c) => [c.op, c.object]), [['set_nologin', `role ${roles.facing}`]]);
      assert.match(steps[2]!.approval!.reasons.join(), /guard customer_facing: svc-checkout is tagged customer-facing/);
      assert.equal(steps[0]!.approval, null);
      const ledger = await t.app.inject({
        method: 'POST', url: '/v1/playbooks/dry-run', headers: t.auth('responder'),
        payload: { type: 'secret_exposure', severity: 'high', confidence: 'confirmed', identityId: 'svc-ledger', credentialId: 'svc-ledger/password' },
      });
      const revoke = (ledger.json().runs as { stepId: string; diff: { changes: { op: string; object: string }[] } }[]).find((r) => r.stepId === 'revoke-sessions')!;
      assert.deepEqual(revoke.diff.changes.map((c) => [c.op, c.object]), pids.map((pid) => ['terminate_session', `session pid ${pid}`]));
      // Nothing changed: the old password works, the sessions live, nothing was recorded.
      assert.equal(await loginPostgres(database, roles.plain, secrets.plain), 'ok');
      assert.equal(await sessionsOf(roles.plain), 2);
      assert.equal((await t.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: t.auth('viewer') })).json().checked, auditBefore);
      assert.equal((await t.context.db.selectFrom('actionRuns').select('id').execute()).length, 0);
    });

    test('a leaked password is rotated, its sessions ended, the account disabled, each verified on the server', async () => {
      assert.equal(await sessionsOf(roles.plain), 2);
      const sent = await t.app.inject({ method: 'POST', url: '/v1/events?format=gitleaks', headers: t.auth('responder'), payload: leakedInGitleaks(secrets.plain) });
      assert.equal(sent.statusCode, 200, sent.body);
      const runs = await settledRuns(t, responder, 'svc-ledger');
      const byStep = Object.fromEntries(runs.map((r) => [r.stepId, r]));
      for (const step of ['rotate', 'revoke-sessions', 'disable', 'evidence', 'tell-owner']) {
        assert.equal(byStep[step]?.state, 'verified', `${step}: ${byStep[step]?.state} ${byStep[step]?.error ?? ''} ${JSON.stringify(byStep[step]?.verification)}`);
      }
      // Proof read back from the server, by this test, independently of Cordon.
      assert.equal(await loginPostgres(database, roles.plain, secrets.plain), '28P01', 'the old password is refused');
      assert.equal(await sessionsOf(roles.plain), 0, 'no session of the role is left');
      const { rows: [role] } = await adminQuery('select rolcanlogin from pg_roles where rolname = $1', [roles.plain]);
      assert.equal(role.rolcanlogin, false);
      // The new password went to its delivery file (0600) and only there; it is right, but the account is disabled.
      const delivered = join(t.dataDir, 'delivery', 'svc-ledger_password.secret');
      assert.equal((await stat(delivered)).mode & 0o777, 0o600);
      const fresh = (await readFile(delivered, 'utf8')).trim();
      assert.notEqual(fresh, secrets.plain);
      assert.equal(await loginPostgres(database, roles.plain, fresh), '28000', 'the new password is accepted and the login refused (NOLOGIN)');
      assert.deepEqual(byStep.rotate!.verification!.checks.map((c) => [c.name, c.passed]), [['new_secret_authenticates', true], ['other_secret_refused', true]]);
      assert.ok(byStep.disable!.verification!.checks.some((c) => c.name === 'login_refused' && c.passed), 'disable is proven by a login with the rotated password');
      // The graph says what the server now is.
      const credentials = await t.context.db.selectFrom('credentials').select(['id', 'status', 'fingerprint', 'replaces']).where('identityId', '=', 'svc-ledger').orderBy('id').execute();
      assert.deepEqual(credentials.map((c) => [c.id, c.status, c.replaces]), [['svc-ledger/password', 'rotated', null], ['svc-ledger/password@r2', 'active', 'svc-ledger/password']]);
      assert.equal(credentials[1]!.fingerprint, t.context.fingerprint(fresh));
      const identity = await t.context.db.selectFrom('identities').select('status').where('id', '=', 'svc-ledger').executeTakeFirstOrThrow();
      assert.equal(identity.status, 'disabled');
      const incident = await t.context.db.selectFrom('incidents').selectAll().where('id', '=', byStep.rotate!.incidentId).executeTakeFirstOrThrow();
      assert.equal(incident.status, 'contained');
      assert.ok(incident.containedAt);
      // Every step recorded in the audit chain, which still verifies; no secret anywhere in the store or the logs.
      const audited = await t.context.db.selectFrom('auditLog').select('action').where('subject', '=', `incident:${incident.id}`).execute();
      for (const action of ['incident.opened', 'response.started', 'action.approved', 'action.started', 'action.executed', 'action.verified']) {
        assert.ok(audited.some((a) => a.action === action), `audited ${action}`);
      }
      assert.equal((await t.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: t.auth('viewer') })).json().ok, true);
      const dump = await dumpDatabase(t.context.db);
      for (const secret of [secrets.plain, fresh]) {
        assert.ok(!dump.includes(secret), 'no plaintext secret in the database');
        assert.ok(!t.logs.text.includes(secret), 'no plaintext secret in the logs');
      }
    });

    test('the incident report lists the timeline, the verified actions, the evidence hashes, the time to contain and the framework references', async () => {
      const { items: [summary] } = (await t.app.inject({ method: 'GET', url: '/v1/incidents?identity=svc-ledger', headers: t.auth('viewer') })).json();
      const json = await t.app.inject({ method: 'GET', url: `/v1/incidents/${summary.id}/report?format=json`, headers: t.auth('viewer') });
      assert.equal(json.statusCode, 200, json.body);
      const report = json.json();
      assert.equal(report.incident.status, 'contained');
      assert.ok(report.metrics.timeToContainMs >= 0 && report.metrics.timeToContainMs < 60_000, `time to contain ${report.metrics.timeToContainMs}`);
      assert.ok(report.metrics.exposureWindowMs >= report.metrics.timeToDetectMs, 'the exposure started with the leak, before it was detected');
      const verified = report.actions.filter((a: { state: string }) => a.state === 'verified').map((a: { stepId: string }) => a.stepId);
      assert.deepEqual(verified, ['rotate', 'revoke-sessions', 'disable', 'evidence', 'tell-owner']);
      const rotate = report.actions.find((a: { stepId: string }) => a.stepId === 'rotate');
      assert.ok(rotate.proof.every((p: { passed: boolean }) => p.passed) && rotate.proof.length === 2);
      const kinds = report.timeline.map((e: { kind: string }) => e.kind);
      for (const kind of ['event', 'detection', 'incident.opened', 'response.started', 'action.running', 'action.verified', 'incident.status_changed']) assert.ok(kinds.includes(kind), `timeline has ${kind}`);
      assert.equal(report.evidence.verification.ok, true);
      assert.ok(report.evidence.items.some((e: { kind: string }) => e.kind === 'action'));
      assert.ok(report.evidence.items.every((e: { hash: string; contentDigest: string }) => /^[0-9a-f]{64}$/.test(e.hash) && /^[0-9a-f]{64}$/.test(e.contentDigest)));
      assert.deepEqual(report.frameworks.owaspNhi, [{ id: 'NHI2', title: 'Secret Leakage' }]);
      const csf = Object.fromEntries(report.frameworks.nistCsf.map((o: { id: string; status: string }) => [o.id, o.status]));
      assert.equal(csf['DE.CM-09'], 'met');
      assert.equal(csf['RS.MA-01'], 'met');
      assert.equal(csf['RS.MI-01'], 'met');
      assert.equal(csf['RS.MI-02'], 'met');
      assert.equal(csf['RC.RP-06'], 'in_progress');
      const md = await t.app.inject({ method: 'GET', url: `/v1/incidents/${summary.id}/report?format=md`, headers: t.auth('viewer') });
      assert.match(md.headers['content-type'] as string, /^text\/markdown/);
      assert.match(md.body, /^\*\*TLP:AMBER\*\*$/m);
      assert.match(md.body, /\| time to contain \| [\d.]+ (ms|s) \|/);
      assert.match(md.body, /\| rotate \| rotate_credential \| credential password of .* \| verified \|/);
      assert.match(md.body, /NHI2 Secret Leakage/);
      assert.match(md.body, /\| RS\.MI-01 \| Incidents are contained \| met \|/);
      for (const item of report.evidence.items) assert.ok(md.body.includes(item.hash), 'every evidence hash is in the report');
      // Editing an evidence row by hand breaks its verification, which names it.
      const target = report.evidence.items.find((e: { kind: string }) => e.kind === 'action');
      await t.context.db.updateTable('evidenceItems').set({ content: JSON.stringify({ forged: true }) }).where('id', '=', target.id).execute();
      const check = (await t.app.inject({ method: 'GET', url: `/v1/incidents/${summary.id}/evidence/verify`, headers: t.auth('viewer') })).json();
      assert.deepEqual(check.firstBad, { id: target.id, seq: target.seq, reason: 'its content does not match its digest' });
      const after = (await t.app.inject({ method: 'GET', url: `/v1/incidents/${summary.id}/report?format=json`, headers: t.auth('viewer') })).json();
      assert.equal(after.evidence.verification.ok, false);
    });

    test('a customer-facing identity stops at awaiting_approval for the disable step, and only another person may approve', async () => {
      sessions.push(await postgresSession(database, roles.facing, secrets.facing));
      // An admin reports this leak: admins may approve, but not what they asked for themselves.
      const sent = await t.app.inject({ method: 'POST', url: '/v1/events?format=gitleaks', headers: t.auth('admin'), payload: leakedInGitleaks(secrets.facing) });
      assert.equal(sent.statusCode, 200, sent.body);
      const runs = await settledRuns(t, responder, 'svc-checkout', ['awaiting_approval']);
      const disable = runs.find((r) => r.stepId === 'disable')!;
      assert.equal(disable.state, 'awaiting_approval');
      assert.deepEqual(runs.filter((r) => r.seq < disable.seq && r.responseId === disable.responseId).map((r) => [r.stepId, r.state]), [['rotate', 'verified'], ['revoke-sessions', 'verified']]);
      assert.equal(await loginPostgres(database, roles.facing, secrets.facing), '28P01');
      assert.equal(await sessionsOf(roles.facing), 0);
      const { rows: [before] } = await adminQuery('select rolcanlogin from pg_roles where rolname = $1', [roles.facing]);
      assert.equal(before.rolcanlogin, true, 'nothing disabled before approval');
      assert.deepEqual(disable.plan!.changes.map((c) => [c.op, c.object]), [['set_nologin', `role ${roles.facing}`]]);
      assert.match(disable.approval!.reasons.join(' '), /customer_facing/);
      const approve = (role: 'responder' | 'approver' | 'viewer' | 'admin', planDigest: string) =>
        t.app.inject({ method: 'POST', url: `/v1/actions/${disable.id}/approve`, headers: t.auth(role), payload: { planDigest } });
      const viewer = await approve('viewer', disable.planDigest!);
      assert.equal(viewer.statusCode, 403);
      assert.equal(viewer.json().code, 'ERR_ROLE_FORBIDDEN');
      const responderRole = await approve('responder', disable.planDigest!);
      assert.equal(responderRole.statusCode, 403);
      assert.equal(responderRole.json().code, 'ERR_APPROVER_ROLE', 'the step admits approvers and admins only');
      const self = await approve('admin', disable.planDigest!);
      assert.equal(self.statusCode, 403, self.body);
      assert.equal(self.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(self.json().code, 'ERR_SELF_APPROVAL');
      const stale = await approve('approver', 'f'.repeat(64));
      assert.equal(stale.statusCode, 409);
      assert.equal(stale.json().code, 'ERR_PLAN_CHANGED');
      const approved = await approve('approver', disable.planDigest!);
      assert.equal(approved.statusCode, 200, approved.body);
      const done = await waitFor('the disable step to be verified', async () => {
        const run = (await runsOf(t, 'svc-checkout')).find((r) => r.id === disable.id)!;
        return run.state === 'verified' ? run : undefined;
      }, [t.context.executor.events]);
      assert.equal(done.state, 'verified');
      const { rows: [after] } = await adminQuery('select rolcanlogin from pg_roles where rolname = $1', [roles.facing]);
      assert.equal(after.rolcanlogin, false);
      const fresh = (await readFile(join(t.dataDir, 'delivery', 'checkout', 'db-password'), 'utf8')).trim();
      assert.equal(await loginPostgres(database, roles.facing, fresh), '28000');
      const approvals = await t.context.db.selectFrom('actionApprovals').select(['subject', 'decision']).where('runId', '=', disable.id).execute();
      assert.deepEqual(approvals, [{ subject: 'approver-user', decision: 'approve' }]);
    });
  });
}
