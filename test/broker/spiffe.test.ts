import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { parseSpiffeId } from '../../src/broker/issuers/spiffe.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { exchange, trustIssuer } from '../helpers/broker.js';
import { seedExampleInventory } from '../helpers/seed.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

describe('SPIFFE IDs', () => {
  test('a well-formed SPIFFE ID gives its trust domain and path', () => {
    assert.deepEqual(parseSpiffeId('spiffe://prod.acme.test/ns/payments/sa/api'), { trustDomain: 'prod.acme.test', path: '/ns/payments/sa/api' });
    assert.deepEqual(parseSpiffeId('spiffe://prod.acme.test'), { trustDomain: 'prod.acme.test', path: '' });
  });

  test('each rule of the SPIFFE ID format is enforced', () => {
    const refused: [string, RegExp][] = [
      ['https://prod.acme.test/ns/x', /spiffe:\/\//],
      ['SPIFFE://prod.acme.test/x', /spiffe:\/\//],
      ['spiffe:///ns/x', /empty trust domain/],
      ['spiffe://Prod.Acme.test/x', /trust domain with characters/],
      ['spiffe://prod.acme.test:8443/x', /trust domain with characters/],
      ['spiffe://user@prod.acme.test/x', /trust domain with characters/],
      ['spiffe://prod.acme.test/ns//x', /empty path segment/],
      ['spiffe://prod.acme.test/ns/x/', /trailing slash/],
      ['spiffe://prod.acme.test/ns/../x', /relative path segment/],
      ['spiffe://prod.acme.test/ns/./x', /relative path segment/],
      ['spiffe://prod.acme.test/ns/x?y=1', /path segment with characters/],
      ['spiffe://prod.acme.test/ns/x#f', /path segment with characters/],
      ['spiffe://prod.acme.test/ns/caf%C3%A9', /path segment with characters/],
      [`spiffe://prod.acme.test/${'a'.repeat(2100)}`, /longer than 2048 bytes/],
    ];
    for (const [id, why] of refused) {
      const result = parseSpiffeId(id);
      assert.equal(typeof result, 'string', id);
      assert.match(result as string, why, id);
    }
  });
});

describe('JWT-SVID exchange', () => {
  let store: TestStore;
  let t: TestApp;
  let key: CryptoKey;
  const svid = (sub: string, extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => new SignJWT({ sub, aud: 'cordon', ...extra })
    .setProtectedHeader({ alg: 'ES256', kid: 'spire-1', typ: 'JWT', ...header }).setIssuedAt().setExpirationTime('5m').sign(key);

  before(async () => {
    store = await openTestStore('pglite');
    await seedExampleInventory(store.db);
    t = await startTestApp(store);
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    // SPIRE's JWT-SVIDs need not carry iss: the issuer is found by the trust domain of the sub.
    await trustIssuer(t, {
      id: 'spire', issuer: 'spiffe://prod.acme.test', kind: 'spiffe', trustDomain: 'prod.acme.test',
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'spire-1', alg: 'ES256' }] }, audiences: ['cordon'],
      bindings: [{ claims: { sub: 'spiffe://prod.acme.test/ns/payments/*' }, identity: 'wl-payments-api', scopes: ['payments:read'], audiences: ['api:ledger'] }],
    });
  });
  after(() => t?.close());

  test('a JWT-SVID of the trust domain is exchanged for the bound identity', async () => {
    const res = await exchange(t, await svid('spiffe://prod.acme.test/ns/payments/sa/api'));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(decodeJwt(res.json().access_token).sub, 'wl-payments-api');
  });

  test('a JWT-SVID that names its issuer is accepted too', async () => {
    const res = await exchange(t, await svid('spiffe://prod.acme.test/ns/payments/sa/api', { iss: 'spiffe://prod.acme.test' }));
    assert.equal(res.statusCode, 200, res.body);
  });

  test('a SPIFFE ID of another trust domain finds no trusted issuer', async () => {
    const res = await exchange(t, await svid('spiffe://dev.acme.test/ns/payments/sa/api'));
    assert.equal(res.json().error, 'invalid_request');
    assert.match(res.json().error_description, /untrusted issuer/);
  });

  test('an SVID of this issuer naming another trust domain is refused', async () => {
    const res = await exchange(t, await svid('spiffe://dev.acme.test/ns/payments/sa/api', { iss: 'spiffe://prod.acme.test' }));
    assert.equal(res.json().error, 'invalid_request');
    assert.match(res.json().error_description, /trust domain dev.acme.test, not prod.acme.test/);
  });

  test('a malformed SPIFFE ID is refused naming the rule it breaks', async () => {
    const res = await exchange(t, await svid('spiffe://prod.acme.test/ns/../payments', { iss: 'spiffe://prod.acme.test' }));
    assert.equal(res.json().error, 'invalid_request');
    assert.match(res.json().error_description, /not a SPIFFE ID: it has a relative path segment/);
  });

  test('an SVID outside the binding\'s path is refused', async () => {
    const res = await exchange(t, await svid('spiffe://prod.acme.test/ns/orders/sa/api'));
    assert.equal(res.json().error, 'invalid_request');
    assert.match(res.json().error_description, /claim sub is not an allowed value/);
  });

  test('a token with another typ is not a JWT-SVID', async () => {
    const res = await exchange(t, await svid('spiffe://prod.acme.test/ns/payments/sa/api', {}, { typ: 'at+jwt' }));
    assert.equal(res.json().error, 'invalid_request');
    assert.match(res.json().error_description, /not a JWT-SVID/);
  });
});
