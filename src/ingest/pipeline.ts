import type { ControlledTransaction } from 'kysely';
import { appendAudit, lockAuditChain } from '../audit/service.js';
import { InvalidInputError } from '../domain/errors.js';
import { EVENT_FORMATS, type EventFormat } from '../domain/event.js';
import type { Actor } from '../domain/roles.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db } from '../store/db.js';
import type { Database } from '../store/schema.js';
import { recordDeadLetters, type DeadLetter } from './dead-letters.js';
import { storeTakesCopy } from './copy.js';
import { copyRowsWriter } from './event-rows.js';
import { insertEvents, type EventBatch, type Inserted } from './event-store.js';
import type { DetectionSink, IngestedEvent } from './ingested.js';
import { recordReader, type Rejected } from './record-reader.js';
import { splitRecords, type RawRecord } from './records.js';
import type { IdentityResolver } from './resolve.js';
import { SLICE, yieldToEventLoop } from './slices.js';
import { storeTurns } from './turns.js';

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
  resolver: Pick<IdentityResolver, 'batch'>;
  detection: DetectionSink;
  /** Told after a batch queued work (detections to respond to). */
  onQueued?: () => void;
}

/** Records per transaction: large enough to amortize a commit, small enough to bound memory. */
export const BATCH_SIZE = 2000;

/**
 * Signals in: splits input into records, parses each with its format's parser, fingerprints
 * leaked secrets and drops their plaintext, resolves identities, stores new events (idempotent
 * on the dedupe key), keeps bad records as dead letters and runs detection on what is new, all
 * in one transaction per batch, audited with the batch's counts. Detection and commits run batch
 * after batch, so detectors see events in order; a batch's events are inserted while the batch
 * before it is still being detected and committed (`turns.ts`), and the next batch is parsed
 * meanwhile, in slices, so the store and the CPU work side by side.
 */
export function ingestService(deps: IngestDeps) {
  const turns = storeTurns();
  const viaCopy = storeTakesCopy(deps.db);
  const reader = recordReader(deps);

  async function ingest(input: string | unknown, options: IngestOptions, actor: Actor): Promise<IngestSummary> {
    if (options.format !== undefined && !(EVENT_FORMATS as readonly string[]).includes(options.format)) {
      throw new InvalidInputError('ERR_EVENT_FORMAT', `unknown format "${options.format}"`, [{ path: 'format', message: `must be one of: ${EVENT_FORMATS.join(', ')}` }]);
    }
    const records = await splitRecords(input);
    if (records.length === 0) throw new InvalidInputError('ERR_EVENTS_EMPTY', 'no records: send a JSON object, a JSON array or NDJSON', [{ path: '', message: 'is empty' }]);
    const summary: IngestSummary = { received: records.length, stored: 0, duplicates: 0, rejected: 0, deadLettered: 0, detections: 0, events: [], errors: [] };
    const chunks: (RawRecord[] | undefined)[] = [];
    for (let i = 0; i < records.length; i += BATCH_SIZE) chunks.push(records.slice(i, i + BATCH_SIZE));
    // The next batch is parsed while this one is written: CPU work overlaps the store's.
    const ahead = (i: number) => {
      const prepared = prepare(chunks[i]!, options);
      chunks[i] = undefined; // the parsed records are not kept while the batch waits for the store
      prepared.catch(() => undefined); // awaited below; a failure while the previous batch is written is not unhandled
      return prepared;
    };
    const parts: Promise<IngestSummary>[] = [];
    try {
      let next = ahead(0);
      for (let i = 0; i < chunks.length; i++) {
        const prepared = await next;
        if (i + 1 < chunks.length) next = ahead(i + 1);
        const part = turns.run(() => insert(prepared), (staged) => finish(staged, options, actor));
        part.catch(() => undefined); // awaited below
        parts.push(part);
        // At most two of this call's batches at the store; the one after them is parsed meanwhile.
        if (parts.length >= 2) await parts[parts.length - 2];
      }
      for (const part of await Promise.all(parts)) {
        for (const key of ['stored', 'duplicates', 'rejected', 'deadLettered', 'detections'] as const) summary[key] += part[key];
        summary.events.push(...part.events);
        summary.errors.push(...part.errors);
      }
    } catch (error) {
      // Nothing of this call is still being written when it fails: what committed stays (and is idempotent).
      await Promise.allSettled(parts);
      throw error;
    }
    return summary;
  }

  /**
   * Everything before the store's turn: parse, fingerprint and scrub, seal the rejected records,
   * resolve, build the rows. What is kept of a record is its event and its row: the parsed
   * record is let go here, not held while the batch waits for the store.
   */
  async function prepare(records: RawRecord[], options: IngestOptions): Promise<Prepared> {
    const receivedAt = new Date();
    const events: IngestedEvent[] = [];
    const raws: string[] = [];
    const indexes: number[] = [];
    const rejected: Rejected[] = [];
    const seen = new Set<string>();
    const copy = viaCopy ? copyRowsWriter(records.length) : undefined;
    const resolver = deps.resolver.batch();
    let duplicates = 0;
    // Slice by slice, each record goes from text to row while it is still in the CPU's caches.
    for (let start = 0; start < records.length; start += SLICE) {
      if (start) await yieldToEventLoop();
      const first = events.length;
      for (let i = start; i < Math.min(records.length, start + SLICE); i++) {
        const record = records[i]!;
        const outcome = reader.parse(record, options.format, receivedAt);
        if ('issues' in outcome) {
          rejected.push({ record, ...outcome });
          continue;
        }
        const { event, raw } = reader.normalize(outcome.event, record.text);
        record.value = undefined; // its row is built below: the parsed record need not outlive this slice
        if (seen.has(event.dedupeKey)) {
          duplicates++;
          continue;
        }
        seen.add(event.dedupeKey);
        events.push(event);
        raws.push(raw);
        indexes.push(record.index);
      }
      // Resolution only reads: it runs ahead of the store's turn like the rest.
      const slice = events.slice(first);
      const resolutions = await resolver.resolve(slice.map((e) => e.event));
      for (let i = 0; i < slice.length; i++) {
        slice[i]!.resolution = resolutions[i]!;
        copy?.write(slice[i]!, raws[first + i]!);
      }
    }
    const letters = await Promise.all(rejected.map((r) => reader.deadLetter(r, options.channel)));
    const errors = rejected.flatMap(({ record, code, issues }) => issues.map((issue): RecordError => ({
      record: record.index, ...(record.line ? { line: record.line } : {}), code, path: issue.path, message: issue.message,
    })));
    return { received: records.length, events, indexes, rejected: rejected.length, errors, letters, duplicates, batch: { events, raws, copy: copy?.rows() } };
  }

  /** The batch's first turn at the store: its transaction opens and its events are inserted. */
  async function insert(prepared: Prepared): Promise<Staged> {
    const tx = await deps.db.startTransaction().execute();
    try {
      return { prepared, tx, inserted: await insertEvents(tx, prepared.batch) };
    } catch (error) {
      await tx.rollback().execute().catch(() => undefined);
      throw error;
    }
  }

  /** The batch's second turn, in batch order: dead letters, detection, audit, commit. */
  async function finish({ prepared, tx, inserted }: Staged, options: IngestOptions, actor: Actor): Promise<IngestSummary> {
    const { received, events, indexes, rejected, errors, letters, duplicates } = prepared;
    let counts: Omit<IngestSummary, 'events' | 'errors'>;
    try {
      // The audit chain's lock first, before detections, baselines and dead letters: two processes'
      // batches then take their locks in one order and cannot deadlock each other.
      if (inserted.count || letters.length) await lockAuditChain(tx);
      const deadLettered = await recordDeadLetters(tx, letters);
      const fresh = inserted.count === events.length ? events : events.filter((e) => inserted.has(e.id));
      const detected = fresh.length ? await deps.detection.detect(tx, fresh, actor) : { created: [] };
      counts = {
        received, stored: inserted.count, duplicates: duplicates + events.length - inserted.count,
        rejected, deadLettered, detections: detected.created.length,
      };
      if (counts.stored || counts.deadLettered || counts.detections) {
        await appendAudit(tx, actor, { action: 'events.ingested', subject: `events:${options.channel}`, payload: { ...counts, format: options.format ?? 'recognised' } });
      }
      await tx.commit().execute();
      detected.committed?.();
    } catch (error) {
      await tx.rollback().execute().catch(() => undefined);
      throw error;
    }
    if (counts.detections) deps.onQueued?.();
    const stored: IngestSummary['events'] = [];
    for (let i = 0; i < events.length; i++) if (inserted.has(events[i]!.id)) stored.push({ record: indexes[i]!, id: events[i]!.id });
    return { ...counts, events: stored, errors };
  }

  return { ingest };
}

export type IngestService = ReturnType<typeof ingestService>;

interface Prepared {
  /** Records in the batch. */
  received: number;
  /** The accepted events (a record repeating another of the batch is not one), and their record numbers. */
  events: IngestedEvent[];
  indexes: number[];
  rejected: number;
  errors: RecordError[];
  letters: DeadLetter[];
  /** Records repeating another of the same batch. */
  duplicates: number;
  /** The accepted events as the store takes them. */
  batch: EventBatch;
}

/** A batch whose events are inserted, its transaction still open. */
interface Staged {
  prepared: Prepared;
  tx: ControlledTransaction<Database>;
  inserted: Inserted;
}
