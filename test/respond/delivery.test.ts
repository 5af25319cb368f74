import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { UnavailableError } from '../../src/domain/errors.js';
import { secretDelivery } from '../../src/respond/delivery.js';
import { sendSignedWebhook } from '../../src/respond/webhook.js';
import { resolveSecretReference } from '../../src/secrets/references.js';
import { sealer } from '../../src/secrets/sealed.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

const SIGNING_KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('signed webhooks', () => {
  test('the receiver can verify the signature with a Standard Webhooks library', async () => {
    const receiver = await startReceiver();
    try {
      const next = receiver.next();
      await sendSignedWebhook({ url: receiver.url, signingSecret: SIGNING_KEY, id: 'msg_1', type: 'cordon.test', payload: { a: 1 } });
      const got = await next;
      const verified = new Webhook(SIGNING_KEY).verify(got.body, got.headers) as { type: string; data: { a: number } };
      assert.equal(verified.type, 'cordon.test');
      assert.deepEqual(verified.data, { a: 1 });
      assert.equal(got.headers['webhook-id'], 'msg_1');
      assert.throws(() => new Webhook('whsec_' + Buffer.from('another key, 24 bytes..').toString('base64')).verify(got.body, got.headers));
    } finally {
      await receiver.close();
    }
  });

  test('a refusing or unreachable receiver is an UnavailableError the caller can retry', async () => {
    const receiver = await startReceiver(() => 503);
    try {
      await assert.rejects(sendSignedWebhook({ url: receiver.url, signingSecret: SIGNING_KEY, id: 'm', type: 't', payload: {} }),
        (e: unknown) => e instanceof UnavailableError && e.code === 'ERR_WEBHOOK_REJECTED');
    } finally {
      await receiver.close();
    }
    await assert.rejects(sendSignedWebhook({ url: 'http://127.0.0.1:1/x?token=secret-in-url', signingSecret: SIGNING_KEY, id: 'm', type: 't', payload: {}, timeoutMs: 2000 }),
      (e: unknown) => e instanceof UnavailableError && e.code === 'ERR_WEBHOOK_UNREACHABLE' && !e.message.includes('secret-in-url'));
  });
});

describe('secret delivery', () => {
  let dir: string;
  const seal = sealer(new Uint8Array(32).fill(1));
  const delivery = () => secretDelivery({ directory: dir, resolveSecret: (ref) => resolveSecretReference(ref, seal) });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-delivery-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a file destination gets the secret with mode 0600, replaced whole on redelivery', async () => {
    const d = delivery();
    const target = d.defaultTarget('svc-payments-api/db-password');
    const receipt = await d.deliver(target, { id: 'run-1', credentialId: 'svc-payments-api/db-password', identityId: 'svc-payments-api', secret: 'first-secret' });
    assert.equal(receipt.destination, join(dir, 'svc-payments-api_db-password.secret'));
    assert.equal((await stat(receipt.destination)).mode & 0o777, 0o600);
    assert.equal(await readFile(receipt.destination, 'utf8'), 'first-secret\n');
    await d.deliver(target, { id: 'run-2', credentialId: 'x', identityId: 'y', secret: 'second-secret' });
    assert.equal(await readFile(receipt.destination, 'utf8'), 'second-secret\n');
    assert.ok(!JSON.stringify(receipt).includes('secret-'), 'the receipt names the place, not the secret');
  });

  test('a webhook destination gets a signed message whose signing key is a reference', async () => {
    const receiver = await startReceiver();
    process.env.CORDON_TEST_DELIVERY_KEY = SIGNING_KEY;
    try {
      const next = receiver.next();
      const receipt = await delivery().deliver({ kind: 'webhook', url: `${receiver.url}?t=1`, signingSecret: 'env:CORDON_TEST_DELIVERY_KEY' },
        { id: 'run-3', credentialId: 'c', identityId: 'i', secret: 'webhook-secret' });
      const got = await next;
      const message = new Webhook(SIGNING_KEY).verify(got.body, got.headers) as { data: { secret: string; credentialId: string } };
      assert.equal(message.data.secret, 'webhook-secret');
      assert.equal(receipt.destination, receiver.url);
      await assert.rejects(delivery().deliver({ kind: 'webhook', url: receiver.url, signingSecret: 'plain-key' }, { id: 'x', credentialId: 'c', identityId: 'i', secret: 's' }),
        { code: 'ERR_DELIVERY_SECRET' });
    } finally {
      await receiver.close();
    }
  });
});
