import type { Fingerprinter } from '../secrets/fingerprint.js';
import { isObject } from './formats/shared.js';

/** What a secret is replaced with in what Cordon keeps. */
export function fingerprintMarker(fingerprint: string): string {
  return `[fingerprint:${fingerprint}]`;
}

/** Field names whose string value is a secret in any format (a last line of defence). */
const SECRET_KEY = /^(password|passwd|secret|client_?secret|private_?key|secret_?access_?key|access_?token|refresh_?token|api_?key|token)$/i;
const MARKED = /^\[fingerprint:[0-9a-f]{64}\]$/;

/**
 * A deep copy of `value` in which every occurrence of a known secret (in strings and keys) is
 * replaced by its fingerprint marker, and so is any string under a secret-named field.
 */
export function scrubSecrets(value: unknown, secrets: string[], fingerprint: Fingerprinter): unknown {
  // Longest first, so a value containing another (RawV2 holds Raw) is replaced whole.
  const known = [...new Set(secrets)].sort((a, b) => b.length - a.length).map((s) => [s, fingerprintMarker(fingerprint(s))] as const);
  const replace = (text: string) => {
    let out = text;
    for (const [secret, marker] of known) if (out.includes(secret)) out = out.split(secret).join(marker);
    return out;
  };
  const walk = (node: unknown, key: string | undefined): unknown => {
    if (typeof node === 'string') {
      if (key !== undefined && SECRET_KEY.test(key) && node !== '' && !MARKED.test(node)) return fingerprintMarker(fingerprint(node));
      return known.length ? replace(node) : node;
    }
    if (Array.isArray(node)) return node.map((item) => walk(item, key));
    if (isObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[known.length ? replace(k) : k] = walk(v, k);
      return out;
    }
    return node;
  };
  return walk(value, undefined);
}
