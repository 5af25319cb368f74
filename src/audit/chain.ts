import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// The package is CommonJS with an ESM-style declaration: the default import is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** The first record links to this. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLink {
  seq: number;
  at: Date;
  actor: string;
  actorSubject: string;
  action: string;
  subject: string;
  payloadDigest: string;
  prevHash: string;
}

/** RFC 8785 (JCS) canonical JSON: equal values give equal bytes whatever the key order. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalized');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function digestPayload(payload: unknown): string {
  return sha256Hex(canonicalJson(payload));
}

/** hash = SHA-256 over the canonical JSON of every field of the link, the previous hash included. */
export function linkHash(link: ChainLink): string {
  const { seq, at, actor, actorSubject, action, subject, payloadDigest, prevHash } = link;
  return sha256Hex(canonicalJson({ seq, at: at.toISOString(), actor, actorSubject, action, subject, payloadDigest, prevHash }));
}
