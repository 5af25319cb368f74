import type { Fingerprinter } from '../secrets/fingerprint.js';
import { isObject } from './formats/shared.js';

/** What a secret is replaced with in what Cordon keeps. */
export function fingerprintMarker(fingerprint: string): string {
  return `[fingerprint:${fingerprint}]`;
}

/** Field names whose string value is a secret in any format (a last line of defence). */
const SECRET_KEY = /^(password|passwd|secret|client_?secret|private_?key|secret_?access_?key|access_?token|refresh_?token|api_?key|token)$/i;
const MARKED = /^\[fingerprint:[0-9a-f]{64}\]$/;
const SECRET_KEY_IN_TEXT = /"(password|passwd|secret|client_?secret|private_?key|secret_?access_?key|access_?token|refresh_?token|api_?key|token)"\s*:/i;

/**
 * Whether a record's text can be stored as it came, given that its parsed value needed no change:
 * it has no secret-named field and no escape. Text with a secret-named field is never stored as
 * it came (a field repeated in the text could hide a value the parsed record does not show), and
 * an escape (`"pass\u0077ord"`) could spell such a field where the text does not show it.
 * When this holds and the parser found no secret, the parsed record has nothing to scrub either.
 */
export function storableAsSent(text: string): boolean {
  return !text.includes('\\') && !SECRET_KEY_IN_TEXT.test(text);
}

/**
 * `value` with every occurrence of a known secret (in strings and keys) replaced by its
 * fingerprint marker, and so any string under a secret-named field. Parts with nothing to
 * replace are shared with the input, not copied (most records carry no secret).
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
    if (Array.isArray(node)) {
      const items = node.map((item) => walk(item, key));
      return items.some((item, i) => item !== node[i]) ? items : node;
    }
    if (isObject(node)) {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        const name = known.length ? replace(k) : k;
        const child = walk(v, k);
        if (name !== k || child !== v) changed = true;
        out[name] = child;
      }
      return changed ? out : node;
    }
    return node;
  };
  return walk(value, undefined);
}
