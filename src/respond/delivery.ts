import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../domain/errors.js';
import { isSecretReference } from '../secrets/references.js';
import { sendSignedWebhook } from './webhook.js';
import type { DeliveryTarget } from '../domain/delivery.js';

export interface Delivery {
  /** Idempotency: the same id delivered twice leaves one secret at the destination. */
  id: string;
  credentialId: string;
  identityId: string;
  secret: string;
}

export interface DeliveryReceipt {
  kind: DeliveryTarget['kind'];
  /** Where it went, without the secret: a path, or the webhook's origin and path. */
  destination: string;
}

export interface DeliveryDeps {
  /** Where relative file destinations (and the default one) live. */
  directory: string;
  /** Resolves `env:`/`file:` references of webhook signing secrets. */
  resolveSecret(reference: string): Promise<string>;
}

export function secretDelivery(deps: DeliveryDeps) {
  /** The default destination: a file per credential in the delivery directory. */
  function defaultTarget(credentialId: string): DeliveryTarget {
    return { kind: 'file', path: `${credentialId.replace(/[^A-Za-z0-9._-]/g, '_')}.secret` };
  }

  async function deliver(target: DeliveryTarget, delivery: Delivery): Promise<DeliveryReceipt> {
    if (target.kind === 'file') {
      const path = target.path.startsWith('/') ? target.path : join(deps.directory, target.path);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Written aside then renamed: a reader never sees half a secret.
      const staging = `${path}.${delivery.id.replace(/[^A-Za-z0-9_-]/g, '')}.tmp`;
      await writeFile(staging, `${delivery.secret}\n`, { mode: 0o600 });
      await chmod(staging, 0o600);
      await rename(staging, path);
      return { kind: 'file', destination: path };
    }
    if (!isSecretReference(target.signingSecret)) {
      throw new InvalidInputError('ERR_DELIVERY_SECRET', 'a webhook signing secret must be a reference (env:NAME, file:PATH)', [{ path: '/signingSecret', message: 'must be a reference' }]);
    }
    await sendSignedWebhook({
      url: target.url,
      signingSecret: await deps.resolveSecret(target.signingSecret),
      id: delivery.id,
      type: 'cordon.credential.rotated',
      payload: { credentialId: delivery.credentialId, identityId: delivery.identityId, secret: delivery.secret },
    });
    const u = new URL(target.url);
    return { kind: 'webhook', destination: `${u.origin}${u.pathname}` };
  }

  return { deliver, defaultTarget };
}

export type SecretDelivery = ReturnType<typeof secretDelivery>;
