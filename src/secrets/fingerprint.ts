import { createHmac } from 'node:crypto';

export type Fingerprinter = (value: string) => string;

/**
 * Keyed fingerprint of a secret value: HMAC-SHA256 under the deployment's key, hex. A leaked
 * value can be matched to a stored credential without Cordon ever keeping the value, and a
 * stolen database cannot be brute-forced against the fingerprints without the key.
 */
export function fingerprinter(key: Uint8Array): Fingerprinter {
  return (value) => createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
