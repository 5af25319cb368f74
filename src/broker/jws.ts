import { sign, type KeyObject } from 'node:crypto';

/**
 * JWS compact serialization (RFC 7515 §7.1) signed by `node:crypto`'s Ed25519 with a key imported
 * once. jose signs through WebCrypto, about four times slower here (STACK-NOTES); verification of
 * anything Cordon did not just sign stays with jose.
 */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function signCompact(encodedHeader: string, payload: unknown, privateKey: KeyObject): string {
  const input = `${encodedHeader}.${encodeSegment(payload)}`;
  return `${input}.${sign(null, Buffer.from(input, 'ascii'), privateKey).toString('base64url')}`;
}
