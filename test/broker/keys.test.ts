import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { sealer } from '../../src/secrets/sealed.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { accessToken, introspect, trustIssuer, verifyWithJwks } from '../helpers/broker.js';
import { dumpDatabase } from '../helpers/dump.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, STORE_KINDS, storeSkip, type TestStore } from '../helpers/store.js';
import { startWorkloadIssuer, type WorkloadIssuer } from '../helpers/workload-issuer.js';

for (const kind of STORE_KINDS) {
  describe(`broker signing keys, JWKS and discovery on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let t: TestApp;
    let runtime: WorkloadIssuer;
    const token = async () => accessToken(t, await runtime.sign({ sub: 'agent-support', aud: 'https://cordon.test' }));

    before(async () => {
      store = await openTestStore(kind);
      await seedExampleInventory(store.db);
      t = await startTestApp(store);
      runtime = await startWorkloadIssuer('ES256');
      await trustIssuer(t, { id: 'rt', issuer: runtime.issuer, kind: 'oidc', jwksUri: runtime.jwksUri, audiences: ['https://cordon.test'], bindings: [{ identity: 'agent-support', claims: { sub: 'agent-support' }, scopes: [], audiences: ['api:zendesk'] }] });
    });
    after(async () => {
      await t?.close();
      await runtime?.close();
    });

    test('the JWKS is public and holds Ed25519 public keys only', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(res.statusCode, 200);
      const { keys } = res.json();
      assert.equal(keys.length, 1);
      assert.deepEqual(Object.keys(keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      assert.equal(keys[0].crv, 'Ed25519');
      assert.equal(keys[0].alg, 'EdDSA');
    });

    test('the OpenID discovery document is public and names the broker\'s endpoints', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
      assert.equal(res.statusCode, 200);
      const doc = res.json();
      const issuer = t.context.broker.settings.issuer;
      assert.equal(doc.issuer, issuer);
      assert.equal(doc.jwks_uri, `${issuer}/.well-known/jwks.json`);
      assert.equal(doc.token_endpoint, `${issuer}/oauth2/token`);
      assert.equal(doc.introspection_endpoint, `${issuer}/oauth2/introspect`);
      assert.equal(doc.revocation_endpoint, `${issuer}/oauth2/revoke`);
      assert.deepEqual(doc.grant_types_supported, ['urn:ietf:params:oauth:grant-type:token-exchange']);
    });

    test('private keys are stored sealed under the master key, never in clear', async () => {
      const rows = await store.db.selectFrom('brokerSigningKeys').select(['kid', 'privateKeySealed']).execute();
      const masterKey = Buffer.from((await readFile(join(t.dataDir, 'keys', 'master.key'), 'utf8')).trim(), 'base64url');
      const dump = await dumpDatabase(store.db);
      for (const row of rows) {
        assert.equal(row.privateKeySealed.split('.').length, 5, 'compact JWE');
        assert.deepEqual(decodeProtectedHeader(row.privateKeySealed), { alg: 'dir', enc: 'A256GCM', cty: 'cordon-secret' });
        const { d } = JSON.parse(await sealer(masterKey).open(row.privateKeySealed)) as { d: string };
        assert.ok(d.length >= 43);
        assert.ok(!dump.includes(d), 'database');
        assert.ok(!t.logs.text.includes(d), 'logs');
      }
    });

    test('after a rotation new tokens use the new key and older ones still verify until their key expires', async () => {
      const before = await token();
      const oldKid = decodeProtectedHeader(before).kid;
      const res = await t.app.inject({ method: 'POST', url: '/v1/broker/keys/rotate', headers: t.auth('admin') });
      assert.equal(res.statusCode, 200);
      const newKid = res.json().kid;
      assert.notEqual(newKid, oldKid);
      const after = await token();
      assert.equal(decodeProtectedHeader(after).kid, newKid);
      const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      assert.deepEqual(jwks.keys.map((k: { kid: string }) => k.kid).sort(), [oldKid, newKid].sort());
      await verifyWithJwks(t, before);
      await verifyWithJwks(t, after);
      assert.equal((await introspect(t, before)).active, true);
      const keys = (await t.app.inject({ method: 'GET', url: '/v1/broker/keys', headers: t.auth('admin') })).json().items as { kid: string; activatesAt: string; expiresAt: string | null }[];
      const oldKey = keys.find((k) => k.kid === oldKid)!;
      const newKey = keys.find((k) => k.kid === newKid)!;
      assert.equal(newKey.expiresAt, null);
      const overlap = (t.context.broker.settings.maxTokenTtlSeconds + 300) * 1000;
      assert.equal(new Date(oldKey.expiresAt!).getTime(), new Date(newKey.activatesAt).getTime() + overlap);
      const audit = await store.db.selectFrom('auditLog').select('subject').where('action', '=', 'broker.key.created').execute();
      assert.ok(audit.some((a) => a.subject === `signing-key:${newKid}`));
    });
  });
}
