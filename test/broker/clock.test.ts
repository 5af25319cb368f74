import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { sql } from 'kysely';
import { GRANT_TOKEN_EXCHANGE, TOKEN_TYPE_JWT } from '../../src/broker/claims.js';
import { identityStatusGuard } from '../../src/broker/guard.js';
import { identityLoader } from '../../src/broker/identities.js';
import { brokerService, ROTATE_KEYS_JOB, type BrokerService } from '../../src/broker/service.js';
import { DEFAULT_BROKER_SETTINGS } from '../../src/broker/settings.js';
import { sweepBroker } from '../../src/broker/sweep.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { fingerprinter } from '../../src/secrets/fingerprint.js';
import { sealer } from '../../src/secrets/sealed.js';
import type { Job } from '../../src/store/jobs.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';

const HOUR = 3600_000;

/** The broker on a clock the test moves: key rotation, expiry and a self-expiring quarantine. */
for (const kind of STORE_KINDS) {
  describe(`the broker over time on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let broker: BrokerService;
    let issuerKey: CryptoKey;
    // Two hours ago, so what expires on this clock has also expired for the database's now().
    let clock = Date.now() - 2 * HOUR;
    const job = { id: 'clock-test', kind: ROTATE_KEYS_JOB, payload: {} } as unknown as Job;
    const workloadToken = (sub = 'agent-support') => new SignJWT({ sub, aud: 'cordon', iss: 'https://runtime.test' })
      .setProtectedHeader({ alg: 'ES256', kid: 'rt' }).setIssuedAt(Math.floor(clock / 1000)).setExpirationTime(Math.floor(clock / 1000) + 3600).sign(issuerKey);
    const issue = async (sub?: string) => (await broker.exchange({
      grantType: GRANT_TOKEN_EXCHANGE, subjectToken: await workloadToken(sub), subjectTokenType: TOKEN_TYPE_JWT, audience: [], resource: [],
    }, { id: 'client', actor: SYSTEM_ACTOR })).access_token;

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      broker = brokerService({
        db: store.db, storeKind: store.kind, sealer: sealer(new Uint8Array(32).fill(3)), fingerprint: fingerprinter(new Uint8Array(32).fill(4)),
        settings: { ...DEFAULT_BROKER_SETTINGS, issuer: 'https://cordon.test', keyRotationSeconds: 24 * 3600, keyPrepublishSeconds: 600 },
        guard: identityStatusGuard({ identities: identityLoader({ db: store.db }) }),
        now: () => clock,
      });
      const pair = await generateKeyPair('ES256');
      issuerKey = pair.privateKey;
      await broker.issuers.save({
        id: 'rt', issuer: 'https://runtime.test', kind: 'oidc', jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'rt' }] }, audiences: ['cordon'],
        bindings: ['agent-support', 'agent-refunds'].map((id) => ({ claims: { sub: id }, identity: id, scopes: ['ledger:read'], audiences: ['api:ledger'] })),
      }, SYSTEM_ACTOR);
      await broker.ready();
    });
    after(async () => {
      await broker?.close();
      await store?.close();
    });

    test('a token stops introspecting active at its expiry', async () => {
      const token = await issue();
      assert.equal((await broker.introspect(token)).active, true);
      clock += 299_000;
      assert.equal((await broker.introspect(token)).active, true);
      clock += 2_000;
      assert.deepEqual(await broker.introspect(token), { active: false });
    });

    test('the key is rotated on schedule, published before it signs, and the old one leaves after the overlap', async () => {
      const oldKid = decodeProtectedHeader(await issue()).kid;
      assert.deepEqual(await broker.jobHandlers[ROTATE_KEYS_JOB](job), { rotated: false });
      clock += 24 * HOUR;
      const rotated = await broker.jobHandlers[ROTATE_KEYS_JOB](job) as { rotated: boolean; kid: string };
      assert.equal(rotated.rotated, true);
      assert.deepEqual((await broker.jwks()).keys.map((k) => k.kid).sort(), [oldKid, rotated.kid].sort());
      assert.equal(decodeProtectedHeader(await issue()).kid, oldKid, 'the new key is published first');
      clock += 601_000;
      const signedByNew = await issue();
      assert.equal(decodeProtectedHeader(signedByNew).kid, rotated.kid);
      clock += (DEFAULT_BROKER_SETTINGS.maxTokenTtlSeconds + 300) * 1000;
      assert.deepEqual((await broker.jwks()).keys.map((k) => k.kid), [rotated.kid]);
    });

    test('a quarantine lifts by itself when it expires', async () => {
      const token = await issue('agent-refunds');
      await broker.quarantine('agent-refunds', new Date(clock + 60_000), SYSTEM_ACTOR, 'anomaly under review');
      assert.deepEqual(await broker.introspect(token), { active: false });
      await assert.rejects(issue('agent-refunds'), /quarantined/);
      clock += 61_000;
      assert.equal((await broker.introspect(token)).active, true);
      assert.ok(decodeJwt(await issue('agent-refunds')).jti);
    });

    test('the sweep marks expired tokens and tasks, and revokes a child its parent\'s cascade missed', async () => {
      clock = Date.now() - 2 * HOUR;
      const task = await broker.startTask({ proof: { token: await workloadToken(), tokenType: TOKEN_TYPE_JWT }, purpose: 'old work' }, SYSTEM_ACTOR);
      const expired = await issue();
      clock = Date.now();
      const parent = await issue();
      const child = (await broker.exchange({
        grantType: GRANT_TOKEN_EXCHANGE, subjectToken: parent, subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token', audience: [], resource: [],
      }, { id: 'client', actor: SYSTEM_ACTOR })).access_token;
      // The parent revoked as a racing revocation would have left it: its child's row untouched.
      await sql`update sessions set status = 'revoked' where jti = ${decodeJwt(parent).jti!}`.execute(store.db);
      const result = await sweepBroker(store.db, SYSTEM_ACTOR);
      assert.ok(result.expiredTokens >= 1);
      assert.ok(result.expiredTasks >= 1);
      assert.equal(result.lateRevocations, 1);
      const rows = await store.db.selectFrom('sessions').select(['jti', 'status']).where('jti', 'in', [expired, child].map((x) => decodeJwt(x).jti!)).execute();
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.jti, r.status])), { [decodeJwt(expired).jti!]: 'expired', [decodeJwt(child).jti!]: 'revoked' });
      assert.equal((await broker.getTask(task.id)).status, 'expired');
    });
  });
}
