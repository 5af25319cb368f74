import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore } from '../helpers/store.js';

describe('containment readiness', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(await openTestStore('pglite'));
    await seedExampleInventory(t.context.db, t.context.fingerprint);
  });
  after(() => t?.close());

  const readiness = async (id: string) => (await t.app.inject({ method: 'GET', url: `/v1/identities/${id}/readiness`, headers: t.auth('viewer') })).json();

  test('an identity on a system with a connector, an owner and a playbook is ready', async () => {
    const api = await readiness('svc-payments-api');
    assert.deepEqual(api.checks, { rotate: true, revokeSessions: true, disable: true, owner: true, playbook: true });
    assert.equal(api.score, 1);
    assert.equal(api.playbook, 'secret-exposure-confirmed');
  });

  test('a SaaS key no connector can act on is not, and says why', async () => {
    const stripe = await readiness('key-stripe-live');
    assert.deepEqual(stripe.checks, { rotate: false, revokeSessions: false, disable: false, owner: true, playbook: true });
    assert.deepEqual(stripe.gaps, ['no connector can rotate its credential', 'no connector can end its sessions', 'no connector can disable it']);
    assert.equal(stripe.score, 0.4);
  });

  test('an agent that lives in Cordon is contained by the broker', async () => {
    assert.deepEqual((await readiness('agent-support')).checks, { rotate: true, revokeSessions: true, disable: true, owner: true, playbook: true });
  });

  test('the summary counts each check over every identity', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/readiness', headers: t.auth('viewer') });
    const { summary, items } = res.json();
    assert.equal(summary.identities, items.length);
    assert.equal(summary.ready, items.filter((i: { score: number }) => i.score === 1).length);
    assert.ok(summary.ready > 0 && summary.ready < summary.identities);
    assert.equal(summary.byCheck.owner, items.filter((i: { checks: { owner: boolean } }) => i.checks.owner).length);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/identities/nobody/readiness', headers: t.auth('viewer') })).statusCode, 404);
  });
});
