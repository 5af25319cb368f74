/** The vocabulary of signals (SPEC §2 Event, §3.2), shared by ingestion and detection. */

/** Input formats Cordon parses; each has one parser module in `src/ingest/formats/`. */
export const EVENT_FORMATS = [
  'native', 'ocsf', 'cloudtrail', 'github-secret-scanning', 'gitleaks', 'trufflehog', 'k8s-audit',
] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

/**
 * What an event is about, whatever format it came in:
 *   secret.exposed   a secret value (or its id) was found where it should not be
 *   auth.login       an identity authenticated
 *   api.call         an identity called an API (the bulk of any stream)
 *   token.issued     a token or session credential was issued to an identity
 *   token.used       a token was presented (with its jti)
 *   consent.granted  an OAuth app or integration was granted scopes
 *   finding          another tool's finding (OCSF Detection Finding)
 */
export const EVENT_TYPES = [
  'secret.exposed', 'auth.login', 'api.call', 'token.issued', 'token.used', 'consent.granted', 'finding',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const OUTCOMES = ['success', 'failure', 'unknown'] as const;
export type Outcome = (typeof OUTCOMES)[number];
