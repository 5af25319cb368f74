import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../audit/chain.js';
import type { Issue } from '../domain/errors.js';
import { EVENT_FORMATS, type EventFormat } from '../domain/event.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import type { DeadLetter } from './dead-letters.js';
import type { FormatParser, ParsedEvent } from './event.js';
import { PARSERS, recogniseFormat } from './formats/index.js';
import type { IngestedEvent } from './ingested.js';
import type { RawRecord } from './records.js';
import type { Resolution } from './resolve.js';
import { scrubSecrets, storableAsSent } from './scrub.js';

/** A record that could not become an event, and why. */
export interface Rejected {
  record: RawRecord;
  format?: EventFormat;
  code: string;
  issues: Issue[];
}

/** Access key ids are public identifiers, not secrets: a leaked one may name a stored credential. */
const ACCESS_KEY_ID = /^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}$/;

/**
 * One record's way to an event: parsed with its format's parser, its secrets fingerprinted and
 * their plaintext dropped, its dedupe key and stored form decided; or, for a bad record, the dead
 * letter that keeps it.
 */
export function recordReader(deps: { fingerprint: Fingerprinter; sealer: Pick<Sealer, 'seal'> }) {
  /** Parsed and normalized, or why not: never throws, whatever the record holds. */
  function parse(record: RawRecord, format: EventFormat | undefined, receivedAt: Date): { event: ParsedEvent } | Omit<Rejected, 'record'> {
    if (record.error) return { code: record.error.code, issues: [{ path: '', message: record.error.message }] };
    const value = record.value as Record<string, unknown>;
    const parser: FormatParser | undefined = format ? PARSERS[format] : recogniseFormat(value);
    if (!parser) {
      return {
        code: 'ERR_EVENT_FORMAT_UNKNOWN',
        issues: [{ path: '', message: `the record's format is not recognised; name it with ?format= (${EVENT_FORMATS.join(', ')})` }],
      };
    }
    try {
      const parsed = parser.parse(value, receivedAt);
      return parsed.ok ? { event: parsed.event } : { format: parser.format, code: 'ERR_EVENT_INVALID', issues: parsed.issues };
    } catch {
      // A parser bug must cost one record, not the batch; the record is kept as a dead letter.
      return { format: parser.format, code: 'ERR_EVENT_INVALID', issues: [{ path: '', message: `the record could not be read as ${parser.format}` }] };
    }
  }

  /**
   * Fingerprints the secrets, drops their plaintext from the record, and gives the dedupe key and
   * the record as stored (JSON text: as it came when nothing was scrubbed and the text is safe to
   * keep, else the scrubbed record serialized).
   */
  function normalize(parsed: ParsedEvent, text: string | undefined): { event: IngestedEvent; raw: string } {
    const { secrets, raw } = parsed;
    const asSent = text !== undefined && storableAsSent(text);
    // Most records carry no secret and arrive as text with nothing to scrub: they are not walked.
    const scrubbed = secrets.length === 0 && asSent ? raw : scrubSecrets(raw, secrets, deps.fingerprint);
    const fingerprints = secrets.length ? [...new Set(secrets.map(deps.fingerprint))] : [];
    const keyIds = secrets.length ? secrets.filter((s) => ACCESS_KEY_ID.test(s)) : [];
    const refs = keyIds.length ? { ...parsed.refs, credentialRefs: [...parsed.refs.credentialRefs, ...keyIds] } : parsed.refs;
    const natural = parsed.naturalKey
      ? (parsed.naturalKey.length <= 200 ? parsed.naturalKey : deps.fingerprint(parsed.naturalKey))
      // No id of its own: the record's content (secrets already replaced by their keyed fingerprints) is its identity.
      : deps.fingerprint(canonicalJson(scrubbed));
    const event: IngestedEvent = {
      id: randomUUID(),
      dedupeKey: `${parsed.format}:${natural}`,
      // Every field named, so that every event has one shape whatever its format (detectors read them all).
      event: {
        format: parsed.format, source: parsed.source, type: parsed.type, time: parsed.time, naturalKey: parsed.naturalKey, refs, fingerprints,
        sourceIp: parsed.sourceIp, sourceAsn: parsed.sourceAsn, sourceGeo: parsed.sourceGeo, userAgent: parsed.userAgent,
        action: parsed.action, target: parsed.target, outcome: parsed.outcome, signals: parsed.signals, attributes: parsed.attributes,
      },
      resolution: NOT_RESOLVED,
    };
    return { event, raw: scrubbed === raw && asSent ? text : JSON.stringify(scrubbed) };
  }

  async function deadLetter(r: Rejected, channel: DeadLetter['channel']): Promise<DeadLetter> {
    const text = r.record.text ?? JSON.stringify(r.record.value) ?? String(r.record.value);
    // Whatever a format would call a secret is dropped from what is shown, even when the record is invalid.
    const secrets = r.record.value === undefined ? [] : Object.values(PARSERS).flatMap((p) => safeSecrets(p, r.record.value));
    return {
      digest: deps.fingerprint(text), channel, format: r.format ?? null, recordIndex: r.record.index, line: r.record.line ?? null,
      code: r.code, reason: r.issues.map((i) => (i.path ? `${i.path} ${i.message}` : i.message)).join('; '), issues: r.issues,
      payload: r.record.value === undefined ? undefined : scrubSecrets(r.record.value, secrets, deps.fingerprint),
      sealedRecord: await deps.sealer.seal(text), size: Buffer.byteLength(text),
    };
  }

  return { parse, normalize, deadLetter };
}

function safeSecrets(parser: FormatParser, value: unknown): string[] {
  try {
    return parser.secretsIn(value);
  } catch {
    return [];
  }
}

/** Until the resolver answers. */
const NOT_RESOLVED: Resolution = { identities: [], byFingerprint: [], byCredentialRef: [], sessions: [] };

