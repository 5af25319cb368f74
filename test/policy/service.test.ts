import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { InvalidInputError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/domain/roles.js';
import { decisionLog } from '../../src/policy/decision-log.js';
import { inventoryFacts, type RiskSource } from '../../src/policy/facts.js';
import { GUARD_POLICY_ID } from '../../src/policy/guard.js';
import type { BundleInput } from '../../src/policy/load.js';
import { policyService, type PolicyServiceDeps } from '../../src/policy/service.js';
import { dumpDatabase } from '../helpers/dump.js';
import { LogCapture } from '../helpers/app.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { createLogger } from '../../src/runtime/logger.js';

const POLICY_DIR = new URL('../../policies/', import.meta.url).pathname;
const SCHEMA = { name: 'cordon.cedarschema', text: readFileSync(`${POLICY_DIR}cordon.cedarschema`, 'utf8') };
const ENTITIES = { name: 'entities.json', text: readFileSync(`${POLICY_DIR}entities.json`, 'utf8') };
const ADMIN: Actor = { id: 'token:admin', subject: 'alice', role: 'admin' };
/** A Monday, 10:00 UTC. */
const NOON_ISH = new Date('2025-01-06T10:00:00Z');

const set = (text: string): BundleInput => ({ schema: SCHEMA, entities: ENTITIES, policies: [{ name: 'test.cedar', text }] });

const refundsLookup = {
  principal: { type: 'Cordon::AiAgent', id: 'agent-refunds' },
  action: { type: 'Cordon::Action', id: 'tool.call' },
  resource: { type: 'Cordon::Tool', id: 'refunds.lookup' },
};
const tokenFor = (type: string, id: string) => ({
  principal: { type, id },
  action: { type: 'Cordon::Action', id: 'token.exchange' },
  resource: { type: 'Cordon::Resource', id: 'api:ledger' },
});

for (const kind of STORE_KINDS) {
  describe(`the policy decision point on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    const logs = new LogCapture();
    const logger = createLogger('info', logs);
    const service = (over: Partial<PolicyServiceDeps> = {}) => {
      const facts = inventoryFacts(store.db);
      const decisions = decisionLog({ db: store.db, logger, sampleRate: 1 });
      return { decisions, pdp: policyService({ db: store.db, risk: facts, directory: facts, decisions, logger, policyDir: POLICY_DIR, clock: () => NOON_ISH, ...over }) };
    };
    const setStatus = (id: string, status: string) => store.db.updateTable('identities').set({ status }).where('id', '=', id).execute();

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
    });
    after(() => store?.close());

    test('the first use loads the policy directory as version 1 and audits it', async () => {
      const { pdp } = service();
      await pdp.ready();
      const current = await pdp.current();
      assert.equal(current.version, 1);
      assert.ok(current.policies.some((p) => p.id === 'agents.support.tools' && p.source === 'agents.cedar:4:1'));
      const audit = await store.db.selectFrom('auditLog').select(['action', 'subject']).where('action', '=', 'policy.version_loaded').execute();
      assert.deepEqual(audit, [{ action: 'policy.version_loaded', subject: 'policy-version:1' }]);
    });

    test('a process started on unchanged files serves the stored version without storing another', async () => {
      const { pdp } = service();
      assert.equal((await pdp.authorize(refundsLookup)).policyVersion, 1);
      const versions = await store.db.selectFrom('policyVersions').select('version').execute();
      assert.equal(versions.length, 1);
    });

    test('a quarantined identity is denied by the guard even where a policy permits, and allowed again after release', async () => {
      const { pdp } = service();
      assert.deepEqual((await pdp.authorize(refundsLookup)).reasons, ['agents.refunds.lookup']);
      await setStatus('agent-refunds', 'quarantined');
      const denied = await pdp.authorize(refundsLookup);
      assert.equal(denied.decision, 'deny');
      assert.deepEqual(denied.reasons, [GUARD_POLICY_ID]);
      await setStatus('agent-refunds', 'active');
      const allowed = await pdp.authorize(refundsLookup);
      assert.equal(allowed.decision, 'allow');
      assert.deepEqual(allowed.reasons, ['agents.refunds.lookup']);
    });

    test('disabled and offboarded identities are denied by the guard too, and a permit-everything set cannot lift it', async () => {
      const { pdp } = service();
      await pdp.load(set('@id("everyone") permit (principal, action, resource);'), ADMIN);
      assert.deepEqual((await pdp.authorize(tokenFor('Cordon::ServiceAccount', 'svc-payments-api'))).reasons, ['everyone']);
      for (const id of ['svc-breakglass-db', 'svc-offboarded-contractor']) {
        const decision = await pdp.authorize(tokenFor('Cordon::ServiceAccount', id));
        assert.deepEqual([decision.decision, decision.reasons], ['deny', [GUARD_POLICY_ID]], id);
      }
      await pdp.loadFiles(ADMIN);
    });

    test('a set with a syntax error keeps the previous set serving, and the error names the policy and position', async () => {
      const { pdp } = service();
      const before = await pdp.authorize(refundsLookup);
      await assert.rejects(pdp.load(set('@id("ok") permit (principal, action, resource);\n@id("broken") permit (principal, action, resource) when { 1 + };'), ADMIN), (error: InvalidInputError) => {
        assert.equal(error.code, 'ERR_POLICY_INVALID');
        assert.equal(error.issues[0]!.source, 'test.cedar:2:63');
        assert.match(error.issues[0]!.message, /^policy "broken":/);
        return true;
      });
      const after = await pdp.authorize(refundsLookup);
      assert.equal(after.policyVersion, before.policyVersion);
      assert.deepEqual(after.reasons, before.reasons);
    });

    test('a set with a schema error keeps the previous set serving, and the error names the policy and position', async () => {
      const { pdp } = service();
      const before = await pdp.authorize(refundsLookup);
      await assert.rejects(pdp.load(set('@id("typo")\npermit (principal, action == Cordon::Action::"tool.call", resource)\nwhen { context.input.amout > 3 };'), ADMIN), (error: InvalidInputError) => {
        assert.equal(error.issues[0]!.path, '/policies/typo');
        assert.equal(error.issues[0]!.source, 'test.cedar:3:8');
        return true;
      });
      assert.equal((await pdp.authorize(refundsLookup)).policyVersion, before.policyVersion);
    });

    test('a loaded version is stored, audited, served at once and served by a process started later', async () => {
      const { pdp } = service();
      const loaded = await pdp.load(set('@id("refunds-only") permit (principal == Cordon::AiAgent::"agent-refunds", action, resource);'), ADMIN, 'narrow');
      assert.equal(loaded.changed, true);
      assert.deepEqual(loaded.policyIds, ['refunds-only', GUARD_POLICY_ID]);
      assert.deepEqual((await pdp.authorize(refundsLookup)).reasons, ['refunds-only']);
      const restarted = service().pdp;
      const decision = await restarted.authorize(refundsLookup);
      assert.equal(decision.policyVersion, loaded.version);
      const audit = await store.db.selectFrom('auditLog').select('payload').where('subject', '=', `policy-version:${loaded.version}`).executeTakeFirstOrThrow();
      assert.equal(audit.payload.comment, 'narrow');
      assert.equal((await pdp.load(set('@id("refunds-only") permit (principal == Cordon::AiAgent::"agent-refunds", action, resource);'), ADMIN)).changed, false);
    });

    test('a version stored by another process is served after a refresh', async () => {
      const first = service().pdp;
      const second = service().pdp;
      const served = (await first.authorize(refundsLookup)).policyVersion;
      const loaded = await second.load(set('@id("v-next") permit (principal, action, resource);'), ADMIN);
      assert.equal((await first.authorize(refundsLookup)).policyVersion, served);
      assert.equal(await first.refresh(), loaded.version);
      assert.deepEqual((await first.authorize(refundsLookup)).reasons, ['v-next']);
    });

    test('a request in flight finishes on the version it started on while a new one is swapped in', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let arrived!: () => void;
      const waiting = new Promise<void>((resolve) => (arrived = resolve));
      const facts = inventoryFacts(store.db);
      const slowRisk: RiskSource = { riskOf: async (ids) => { arrived(); await gate; return facts.riskOf(ids); } };
      const { pdp } = service({ risk: slowRisk });
      await pdp.loadFiles(ADMIN);
      const old = (await pdp.current()).version;
      const inFlight = pdp.authorize(refundsLookup);
      await waiting;
      const loaded = await pdp.load(set('@id("after-swap") forbid (principal, action, resource);'), ADMIN);
      release();
      const decision = await inFlight;
      assert.equal(decision.policyVersion, old);
      assert.deepEqual(decision.reasons, ['agents.refunds.lookup']);
      const next = await pdp.authorize(refundsLookup);
      assert.deepEqual([next.policyVersion, next.reasons], [loaded.version, ['after-swap']]);
      await pdp.loadFiles(ADMIN);
    });

    test('policies see the time, the task and the principal\'s risk that the decision point adds', async () => {
      const { pdp } = service();
      await pdp.load(set('@id("enriched") permit (principal, action == Cordon::Action::"token.exchange", resource)\nwhen { context.time.hour == 10 && context.time.weekday == "mon" && context.risk.status == "active" && !context.risk.contained && context has task && context.task.id == "t-7" };'), ADMIN);
      const request = tokenFor('Cordon::AiAgent', 'agent-ledger-reader');
      assert.deepEqual((await pdp.authorize({ ...request, task: { id: 't-7' } })).reasons, ['enriched']);
      assert.equal((await pdp.authorize(request)).decision, 'deny');
      assert.equal((await pdp.authorize({ ...request, task: { id: 't-8' } })).decision, 'deny');
      await pdp.loadFiles(ADMIN);
    });

    test('policies see how many open incidents name the principal', async () => {
      const { pdp } = service();
      await pdp.load(set('@id("no-open-incident") permit (principal, action == Cordon::Action::"token.exchange", resource)\nwhen { context.risk has openIncidents && context.risk.openIncidents == 0 };'), ADMIN);
      const request = tokenFor('Cordon::AiAgent', 'agent-ledger-reader');
      assert.deepEqual((await pdp.authorize(request)).reasons, ['no-open-incident']);
      await store.db.insertInto('incidents').values({ id: 'inc-policy', title: 'drill', status: 'triage', severity: 'high', identityIds: ['agent-ledger-reader'], openedBy: 'test' }).execute();
      assert.equal((await pdp.authorize(request)).decision, 'deny', 'an open incident names it');
      await store.db.updateTable('incidents').set({ status: 'closed' }).where('id', '=', 'inc-policy').execute();
      assert.deepEqual((await pdp.authorize(request)).reasons, ['no-open-incident'], 'a closed incident does not count');
      await pdp.loadFiles(ADMIN);
    });

    test('a caller cannot set the facts Cordon adds, nor claim another kind for an identity', async () => {
      const { pdp } = service();
      await assert.rejects(pdp.authorize({ ...refundsLookup, context: { risk: { status: 'active', contained: false } } }), (error: InvalidInputError) => {
        assert.deepEqual(error.issues, [{ path: '/context/risk', message: 'is set by Cordon' }]);
        return true;
      });
      await assert.rejects(pdp.authorize({ ...refundsLookup, principal: { type: 'Cordon::Workload', id: 'agent-refunds' } }), (error: InvalidInputError) => {
        assert.equal(error.issues[0]!.path, '/principal/type');
        assert.match(error.issues[0]!.message, /agent-refunds is a ai_agent: its entity type is Cordon::AiAgent/);
        return true;
      });
    });

    test('a context that does not fit the schema is refused naming the field', async () => {
      const { pdp } = service();
      await assert.rejects(pdp.authorize({ ...refundsLookup, context: { input: { amount: '120' }, extra: 1 } }), (error: InvalidInputError) => {
        assert.deepEqual(error.issues.map((i) => i.path).sort(), ['/context/extra', '/context/input/amount']);
        return true;
      });
    });

    test('every decision is in the decision log with its reasons, version and caller, but no context value', async () => {
      const { pdp, decisions } = service();
      const secret = 'demo-Pg-payments-api-7Q2vX9kLm4';
      const decision = await pdp.authorize({ ...refundsLookup, context: { input: { target: secret } } }, 'token:agent-runtime');
      const [entry] = await decisions.list({ principal: 'agent-refunds', limit: 1 });
      assert.equal(entry!.id, decision.decisionId);
      assert.deepEqual([entry!.decision, entry!.reasons, entry!.caller, entry!.contextKeys, entry!.policyVersion], ['allow', ['agents.refunds.lookup'], 'token:agent-runtime', ['input'], decision.policyVersion]);
      assert.ok(!(await dumpDatabase(store.db)).includes(secret));
      assert.ok(!logs.text.includes(secret));
    });

    test('with sampling off, allows are not logged but every deny is', async () => {
      const facts = inventoryFacts(store.db);
      const decisions = decisionLog({ db: store.db, logger, sampleRate: 0 });
      const pdp = policyService({ db: store.db, risk: facts, directory: facts, decisions, logger, policyDir: POLICY_DIR, clock: () => NOON_ISH });
      const allowed = await pdp.authorize(refundsLookup);
      const denied = await pdp.authorize({ ...refundsLookup, resource: { type: 'Cordon::Tool', id: 'customers.export' } });
      const ids = (await decisions.list({ limit: 50 })).map((e) => e.id);
      assert.ok(!ids.includes(allowed.decisionId));
      assert.ok(ids.includes(denied.decisionId));
    });

    test('a batch decides each good request and reports each bad one by index', async () => {
      const { pdp } = service();
      const results = await pdp.authorizeBatch([refundsLookup, { principal: 'nope' }, { ...refundsLookup, context: { risk: 1 } }, { ...refundsLookup, resource: { type: 'Cordon::Tool', id: 'customers.export' } }]);
      assert.deepEqual(results.map((r) => ('error' in r ? `${r.index}:${r.error.code}` : `${r.index}:${r.decision}`)), ['0:allow', '1:ERR_AUTHORIZE_INVALID', '2:ERR_AUTHORIZE_INVALID', '3:deny']);
      assert.ok((results[1] as { error: { errors: { path: string }[] } }).error.errors.some((e) => e.path === '/principal'));
    });
  });
}
