import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/service.js';
import { canonicalJson } from '../audit/chain.js';
import { InvalidInputError, type Issue } from '../domain/errors.js';
import { EVENT_FORMATS, type EventFormat } from '../domain/event.js';
import type { Actor } from '../domain/roles.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db } from '../store/db.js';
import { recordDeadLetters, type DeadLetter } from './dead-letters.js';
import type { FormatParser, ParsedEvent } from './event.js';
import { eventRows, insertEvents } from './event-store.js';
import { PARSERS, recogniseFormat } from './formats/index.js';
import type { DetectionSink, IngestedEvent } from './ingested.js';
import { splitRecords, type RawRecord } from './records.js';
import type { IdentityResolver } from './resolve.js';
import { mayHoldSecretField, scrubSecrets } from './scrub.js';

/** Where records came from, as kept on dead letters. */
export type IngestChannel = 'api' | 'cli' | 'nats';

export interface IngestOptions {
  /** The parser to use; recognised per record from its shape when absent. */
  format?: EventFormat;
  channel: IngestChannel;
}

/** One bad record: which, where (NDJSON line), which field, why. */
export interface RecordError {
  record: number;
  line?: number;
  code: string;
  path: string;
  message: string;
}

export interface IngestSummary {
  received: number;
  stored: number;
  duplicates: number;
  rejected: number;
  deadLettered: number;
  detections: number;
  /** Ids of the events this call stored, with their record numbers. */
  events: { record: number; id: string }[];
  errors: RecordError[];
}

export interface IngestDeps {
  db: Db;
  fingerprint: Fingerprinter;
  sealer: Pick<Sealer, 'seal'>;
  resolver: Pick<IdentityResolver, 'resolve'>;
  detection: DetectionSink;
  /** Told after a batch queued work (detections to respond to). */
  onQueued?: () => void;
}

/** Records per transaction: large enough to amortize a commit, small enough to bound memory. */
export const BATCH_SIZE = 2000;

/** Access key ids are public identifiers, not secrets: a leaked one may name a stored credential. */
const ACCESS_KEY_ID = /^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}$/;

/**
 * Signals in: splits input into records, parses each with its format's parser, fingerprints
 * leaked secrets and drops their plaintext, resolves identities, stores new events (idempotent
 * on the dedupe key), keeps bad records as dead letters and runs detection on what is new, all
 * in one transaction per batch, audited with the batch's counts. Batches run one at a time so
 * detectors see events in order.
 */
export function ingestService(deps: IngestDeps) {
  let turn: Promise<unknown> = Promise.resolve();

  async function ingest(input: string | unknown, options: IngestOptions, actor: Actor): Promise<IngestSummary> {
    if (options.format !== undefined && !(EVENT_FORMATS as readonly string[]).includes(options.format)) {
      throw new InvalidInputError('ERR_EVENT_FORMAT', `unknown format "${options.format}"`, [{ path: 'format', message: `must be one of: ${EVENT_FORMATS.join(', ')}` }]);
    }
    const records = splitRecords(input);
    if (records.length === 0) throw new InvalidInputError('ERR_EVENTS_EMPTY', 'no records: send a JSON object, a JSON array or NDJSON', [{ path: '', message: 'is empty' }]);
    const summary: IngestSummary = { received: records.length, stored: 0, duplicates: 0, rejected: 0, deadLettered: 0, detections: 0, events: [], errors: [] };
    const chunks: RawRecord[][] = [];
    for (let i = 0; i < records.length; i += BATCH_SIZE) chunks.push(records.slice(i, i + BATCH_SIZE));
    // The next batch is parsed while this one is written: CPU work overlaps the store's.
    const ahead = (chunk: RawRecord[]) => {
      const prepared = prepare(chunk, options);
      prepared.catch(() => undefined); // awaited below; a failure while the previous batch is written is not unhandled
      return prepared;
    };
    let next = ahead(chunks[0]!);
    for (let i = 0; i < chunks.length; i++) {
      const prepared = await next;
      if (i + 1 < chunks.length) next = ahead(chunks[i + 1]!);
      const part = await inTurn(() => write(prepared, options, actor));
      for (const key of ['stored', 'duplicates', 'rejected', 'deadLettered', 'detections'] as const) summary[key] += part[key];
      summary.events.push(...part.events);
      summary.errors.push(...part.errors);
    }
    return summary;
  }

  function inTurn<T>(run: () => Promise<T>): Promise<T> {
    const result = turn.then(run, run);
    turn = result.catch(() => undefined);
    return result;
  }

  /** Everything before the store's turn: parse, fingerprint and scrub, seal the rejected records, resolve, build the rows. */
  async function prepare(records: RawRecord[], options: IngestOptions): Promise<Prepared> {
    const receivedAt = new Date();
    const accepted: Prepared['accepted'] = [];
    const rejected: Prepared['rejected'] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const record of records) {
      const outcome = parseRecord(record, options.format, receivedAt);
      if ('issues' in outcome) {
        rejected.push({ record, ...outcome });
        continue;
      }
      const event = normalize(outcome.event, record.text);
      if (seen.has(event.dedupeKey)) {
        duplicates++;
        continue;
      }
      seen.add(event.dedupeKey);
      accepted.push({ record, event });
    }
    const letters = await Promise.all(rejected.map((r) => deadLetter(r, options.channel)));
    // Resolution only reads: it can run ahead of the store's turn like the rest.
    const resolutions = await deps.resolver.resolve(accepted.map(({ event }) => ({ refs: event.event.refs, fingerprints: event.event.fingerprints })));
    accepted.forEach(({ event }, i) => (event.resolution = resolutions[i]!));
    return { records, accepted, rejected, letters, duplicates, rows: eventRows(accepted.map((a) => a.event)) };
  }

  /** Store, detect and audit one batch, in one transaction. */
  async function write({ records, accepted, rejected, letters, duplicates, rows }: Prepared, options: IngestOptions, actor: Actor) {
    const result = await deps.db.transaction().execute(async (tx) => {
      const inserted = await insertEvents(tx, rows);
      const deadLettered = await recordDeadLetters(tx, letters);
      const fresh = accepted.filter((a) => inserted.has(a.event.id)).map((a) => a.event);
      const detected = fresh.length ? await deps.detection.detect(tx, fresh, actor) : { created: [] };
      const counts = {
        received: records.length, stored: inserted.size, duplicates: duplicates + accepted.length - inserted.size,
        rejected: rejected.length, deadLettered, detections: detected.created.length,
      };
      if (counts.stored || counts.deadLettered || counts.detections) {
        await appendAudit(tx, actor, { action: 'events.ingested', subject: `events:${options.channel}`, payload: { ...counts, format: options.format ?? 'recognised' } });
      }
      return { ...counts, inserted };
    });
    if (result.detections) deps.onQueued?.();
    return {
      ...result,
      events: accepted.filter((a) => result.inserted.has(a.event.id)).map((a) => ({ record: a.record.index, id: a.event.id })),
      errors: rejected.flatMap(({ record, code, issues }) => issues.map((issue) => ({
        record: record.index, ...(record.line ? { line: record.line } : {}), code, path: issue.path, message: issue.message,
      }))),
    };
  }

  /** Parsed and normalized, or why not: never throws, whatever the record holds. */
  function parseRecord(record: RawRecord, format: EventFormat | undefined, receivedAt: Date): { event: ParsedEvent } | { format?: EventFormat; code: string; issues: Issue[] } {
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

  /** Fingerprints the secrets, drops their plaintext from the record, and gives the dedupe key. */
  function normalize(parsed: ParsedEvent, text: string | undefined): IngestedEvent {
    const { secrets, raw, ...rest } = parsed;
    const fingerprints = [...new Set(secrets.map(deps.fingerprint))];
    const refs = { ...rest.refs, credentialRefs: [...rest.refs.credentialRefs, ...secrets.filter((s) => ACCESS_KEY_ID.test(s))] };
    const scrubbed = scrubSecrets(raw, secrets, deps.fingerprint);
    const natural = rest.naturalKey
      ? (rest.naturalKey.length <= 200 ? rest.naturalKey : deps.fingerprint(rest.naturalKey))
      // No id of its own: the record's content (secrets already replaced by their keyed fingerprints) is its identity.
      : deps.fingerprint(canonicalJson(scrubbed));
    return {
      id: randomUUID(),
      dedupeKey: `${parsed.format}:${natural}`,
      event: { ...rest, refs, fingerprints },
      raw: scrubbed,
      ...(scrubbed === raw && text !== undefined && !mayHoldSecretField(text) ? { rawText: text } : {}),
      resolution: { identities: [], byFingerprint: [], byCredentialRef: [], sessions: [] },
    };
  }

  async function deadLetter(r: { record: RawRecord; format?: EventFormat; code: string; issues: Issue[] }, channel: IngestChannel): Promise<DeadLetter> {
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

  return { ingest };
}

function safeSecrets(parser: FormatParser, value: unknown): string[] {
  try {
    return parser.secretsIn(value);
  } catch {
    return [];
  }
}

export type IngestService = ReturnType<typeof ingestService>;

interface Prepared {
  records: RawRecord[];
  accepted: { record: RawRecord; event: IngestedEvent }[];
  rejected: { record: RawRecord; format?: EventFormat; code: string; issues: Issue[] }[];
  letters: DeadLetter[];
  /** Records repeating another of the same batch. */
  duplicates: number;
  /** The accepted events as rows for the store. */
  rows: string;
}
