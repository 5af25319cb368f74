/**
 * SPIFFE IDs (SPIFFE-ID specification §2): `spiffe://<trust domain>[/<path>]`. The trust domain
 * is lowercase letters, digits, `.`, `-` and `_`; each path segment is non-empty, not `.` or
 * `..`, of letters, digits, `.`, `-` and `_`; no port, user info, query or fragment; at most 2048
 * bytes.
 */
export interface SpiffeId {
  trustDomain: string;
  path: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** The parsed ID, or why it is not one. */
export function parseSpiffeId(value: string): SpiffeId | string {
  if (Buffer.byteLength(value, 'utf8') > 2048) return 'is longer than 2048 bytes';
  if (!value.startsWith('spiffe://')) return 'does not start with spiffe://';
  const rest = value.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  if (trustDomain.length === 0) return 'has an empty trust domain';
  if (trustDomain.length > 255) return 'has a trust domain longer than 255 characters';
  if (!TRUST_DOMAIN.test(trustDomain)) return 'has a trust domain with characters other than a-z 0-9 . - _';
  if (path !== '') {
    const segments = path.slice(1).split('/');
    for (const segment of segments) {
      if (segment === '') return 'has an empty path segment or a trailing slash';
      if (segment === '.' || segment === '..') return 'has a relative path segment';
      if (!SEGMENT.test(segment)) return 'has a path segment with characters other than A-Z a-z 0-9 . - _';
    }
  }
  return { trustDomain, path };
}

export function isTrustDomain(value: string): boolean {
  return value.length > 0 && value.length <= 255 && TRUST_DOMAIN.test(value);
}
