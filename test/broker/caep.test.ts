import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { sql } from 'kysely';
import { DELIVER_SET_JOB } from '../../src/broker/caep.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startWorker, type Worker } from '../../src/runtime/worker.js';
import type { Job } from '../../src/store/jobs.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ACCESS_TOKEN_TYPE, accessToken, JWT_TYPE, postForm, trustIssuer } from '../helpers/broker.js';
import { startCaepReceiver, type CaepReceiver } from '../helpers/caep-receiver.js';
import { dumpDatabase } from '../helpers/dump.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

const AUD = 'https://cordon.test';
const RECEIVER_AUDIENCE = 'https://receiver.test/caep';
const RECEIVER_SECRET = 'Bearer rcv-7fK2mQ9xLp4Wz8Nc';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

for (const kind of STORE_KINDS) {
  describe(`CAEP session-revoked SETs pushed to receivers on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let t: TestApp;
    let runtime: WorkloadIssuer;
    let worker: Worker;
    let receiver: CaepReceiver;
    const own = (agent: string) => runtime.sign({ sub: agent, aud: AUD });

    async function register(r: CaepReceiver, extra: Record<string, unknown> = {}) {
      const res = await t.app.inject({
        method: 'PUT', url: '/v1/broker/receivers/soc', headers: t.auth('admin'),
        payload: { id: 'soc', endpoint: r.endpoint, audience: RECEIVER_AUDIENCE, authorization: RECEIVER_SECRET, ...extra },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    /** Verifies a SET as a receiver would: signature against Cordon's published JWKS, typ, issuer, audience. */
    async function verifySet(set: string) {
      const jwks = createLocalJWKSet((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
      return (await jwtVerify(set, jwks, { typ: 'secevent+jwt', issuer: t.context.broker.settings.issuer, audience: RECEIVER_AUDIENCE })).payload;
    }
    /** The delivery job of the SET about this token, once it succeeded or failed for good. */
    function deliveryOf(jti: string): Promise<Job> {
      return new Promise((resolve) => {
        const listener = (job: Job) => {
          if (job.kind !== DELIVER_SET_JOB || (job.status !== 'succeeded' && job.status !== 'failed')) return;
          const subId = decodeJwt((job.payload as { set: string }).set).sub_id as { session: { jti: string } };
          if (subId.session.jti !== jti) return;
          worker.events.off('finished', listener);
          resolve(job);
        };
        worker.events.on('finished', listener);
      });
    }

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      t = await startTestApp(store);
      runtime = await startWorkloadIssuer('EdDSA');
      const agent = (id: string) => ({ claims: { sub: id }, identity: id, scopes: ['ledger:read'], audiences: ['api:ledger'] });
      await trustIssuer(t, { id: 'agent-runtime', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: [AUD], bindings: [agent('agent-support'), agent('agent-refunds')] });
      worker = startWorker({ db: store.db, logger: createLogger('silent'), handlers: t.context.broker.jobHandlers, signal: t.context.jobSignal, pollMs: 100 });
    });
    beforeEach(async () => {
      await receiver?.close();
    });
    after(async () => {
      await worker?.stop();
      await receiver?.close();
      await t?.close();
      await runtime?.close();
    });

    test('a receiver on localhost gets a verifiable session-revoked SET for each revoked token', async () => {
      receiver = await startCaepReceiver();
      await register(receiver);
      const parent = await accessToken(t, await own('agent-support'));
      const child = await accessToken(t, parent, { subject_token_type: ACCESS_TOKEN_TYPE, actor_token: await own('agent-refunds'), actor_token_type: JWT_TYPE });
      await postForm(t, '/oauth2/revoke', { token: parent });
      const received = await receiver.waitFor(2);
      const revoked = new Map([[decodeJwt(parent).jti, 'agent-support'], [decodeJwt(child).jti, 'agent-refunds']]);
      for (const set of received) {
        assert.equal(set.contentType, 'application/secevent+jwt');
        assert.equal(set.authorization, RECEIVER_SECRET);
        assert.equal(decodeProtectedHeader(set.body).typ, 'secevent+jwt');
        const claims = await verifySet(set.body);
        const subId = claims.sub_id as { format: string; session: { format: string; jti: string; iss: string }; user: { sub: string } };
        assert.equal(subId.format, 'complex');
        assert.equal(subId.session.format, 'jwt_id');
        assert.equal(revoked.get(subId.session.jti), subId.user.sub);
        revoked.delete(subId.session.jti);
        const event = (claims.events as Record<string, { initiating_entity: string; event_timestamp: number }>)[SESSION_REVOKED];
        assert.equal(event?.initiating_entity, 'user');
        assert.equal(typeof claims.jti, 'string');
        assert.equal(claims.sub, undefined);
        assert.equal(claims.exp, undefined);
      }
      assert.equal(revoked.size, 0, 'one SET per revoked token');
    });

    test('a delivery the receiver fails is retried with the same SET until it is accepted', async () => {
      receiver = await startCaepReceiver([503]);
      await register(receiver);
      const token = await accessToken(t, await own('agent-support'));
      const done = deliveryOf(decodeJwt(token).jti!);
      await postForm(t, '/oauth2/revoke', { token });
      const [first, second] = await receiver.waitFor(2);
      assert.equal(first!.status, 503);
      assert.equal(second!.status, 202);
      assert.equal(decodeJwt(first!.body).jti, decodeJwt(second!.body).jti);
      const job = await done;
      assert.equal(job.status, 'succeeded');
      assert.equal(job.attempts, 2);
    });

    test('a SET the receiver refuses with 400 is not sent again', async () => {
      receiver = await startCaepReceiver([400]);
      await register(receiver);
      const token = await accessToken(t, await own('agent-support'));
      const done = deliveryOf(decodeJwt(token).jti!);
      await postForm(t, '/oauth2/revoke', { token });
      const job = await done;
      assert.equal(job.status, 'failed');
      assert.equal(job.attempts, 1);
      assert.match(job.error ?? '', /ERR_CAEP_REJECTED.*invalid_key/);
      assert.equal(receiver.received.length, 1);
    });

    test('a receiver subscribed only to credential-change gets no session-revoked SET', async () => {
      receiver = await startCaepReceiver();
      await register(receiver, { events: ['credential-change'] });
      const before = await sql<{ n: string }>`select count(*) as n from jobs where kind = ${DELIVER_SET_JOB}`.execute(store.db);
      await postForm(t, '/oauth2/revoke', { token: await accessToken(t, await own('agent-support')) });
      const afterCount = await sql<{ n: string }>`select count(*) as n from jobs where kind = ${DELIVER_SET_JOB}`.execute(store.db);
      assert.equal(Number(afterCount.rows[0]!.n), Number(before.rows[0]!.n));
    });

    test('the receiver\'s authorization value is sealed at rest and never shown', async () => {
      const list = await t.app.inject({ method: 'GET', url: '/v1/broker/receivers', headers: t.auth('admin') });
      assert.equal(list.json().items[0].authorization, true);
      assert.ok(!list.body.includes(RECEIVER_SECRET));
      assert.ok(!(await dumpDatabase(store.db)).includes(RECEIVER_SECRET.slice(7)));
      assert.ok(!t.logs.text.includes(RECEIVER_SECRET.slice(7)));
    });
  });
}
