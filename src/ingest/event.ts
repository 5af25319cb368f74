import type { Issue } from '../domain/errors.js';
import type { EventFormat, EventType, Outcome } from '../domain/event.js';
import type { Provider } from '../domain/identity.js';

/**
 * What a record says about the identities involved, before resolution. Secrets are not here:
 * a parser lists them in `ParsedEvent.secrets` and the pipeline turns them into fingerprints.
 */
export interface IdentityRefs {
  identityIds: string[];
  /** The identity's name on its provider (an IAM ARN, a database user, a Kubernetes service account). */
  externalRefs: { provider?: Provider; value: string }[];
  /** A credential's id on its provider (an AWS access key id). */
  credentialRefs: string[];
  jtis: string[];
}

/** Facts detectors read beyond the common fields; stored in `events.attributes`. */
export interface Signals {
  /** The action needs elevated rights (IAM changes, reading Kubernetes secrets …). */
  privileged?: boolean;
  /** OAuth scopes granted (consent) or carried. */
  scopes?: string[];
  /** The token this one was derived from (delegation, exchange): a hop in a chain. */
  parentJti?: string;
  /** When the presented token expires. */
  tokenExpiresAt?: string;
  /** A scanner checked that the leaked secret works. */
  verified?: boolean;
}

/** One record, normalized (SPEC §2 Event). `raw` still holds any secret until the pipeline scrubs it. */
export interface ParsedEvent {
  format: EventFormat;
  /** Who produced it: a product name, a scanner, a cluster. */
  source: string;
  type: EventType;
  time: Date;
  /** The producer's own id for the record, unique within the format. */
  naturalKey: string;
  refs: IdentityRefs;
  /** Plaintext secret values found in the record: fingerprinted, then removed from `raw`. */
  secrets: string[];
  sourceIp?: string;
  sourceAsn?: number;
  sourceGeo?: string;
  userAgent?: string;
  action?: string;
  target?: string;
  outcome: Outcome;
  signals: Signals;
  attributes: Record<string, unknown>;
  raw: unknown;
}

export type ParseResult = { ok: true; event: ParsedEvent } | { ok: false; issues: Issue[] };

/** One module per input format, following the format's public documentation. */
export interface FormatParser {
  format: EventFormat;
  /** True when a record has the shape only this format has (used when no format is given). */
  recognises(record: Record<string, unknown>): boolean;
  parse(record: unknown, receivedAt: Date): ParseResult;
  /** Secret values a record carries, found leniently so a rejected record can be scrubbed too. */
  secretsIn(record: unknown): string[];
}

export function emptyRefs(): IdentityRefs {
  return { identityIds: [], externalRefs: [], credentialRefs: [], jtis: [] };
}
