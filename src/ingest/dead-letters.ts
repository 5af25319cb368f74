import { randomUUID } from 'node:crypto';
import type { Issue } from '../domain/errors.js';
import type { Executor } from '../store/db.js';
import type { DeadLetterRow } from '../store/schema.js';

/** A record that could not become an event, with why; kept so nothing is silently dropped. */
export interface DeadLetter {
  digest: string;
  channel: string;
  format: string | null;
  recordIndex: number;
  line: number | null;
  code: string;
  reason: string;
  issues: Issue[];
  /** The record when it was JSON, secrets replaced by fingerprints. */
  payload: unknown;
  sealedRecord: string;
  size: number;
}

export type DeadLetterView = Omit<DeadLetterRow, 'sealedRecord'>;

/** Stores dead letters; one already kept (same digest) is not stored again. Returns how many were new. */
export async function recordDeadLetters(db: Executor, letters: DeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  // Millisecond times, so the keyset cursor (an ISO string) compares exactly.
  const receivedAt = new Date();
  const rows = await db.insertInto('deadLetters').values(letters.map((l) => ({
    id: randomUUID(), receivedAt, digest: l.digest, channel: l.channel, format: l.format, recordIndex: l.recordIndex, line: l.line,
    code: l.code, reason: l.reason, issues: JSON.stringify(l.issues),
    payload: l.payload === undefined ? null : JSON.stringify(l.payload), sealedRecord: l.sealedRecord, size: l.size,
  }))).onConflict((oc) => oc.column('digest').doNothing()).returning('id').execute();
  return rows.length;
}

export interface DeadLetterFilter {
  code?: string;
  format?: string;
  since?: Date;
  /** Keyset cursor: `<receivedAt ISO>|<id>` of the last item seen. */
  after?: string;
  limit: number;
}

/** Dead letters, oldest first, without the sealed record (it never leaves the store). */
export async function listDeadLetters(db: Executor, filter: DeadLetterFilter): Promise<{ items: DeadLetterView[]; nextCursor: string | null }> {
  let query = db.selectFrom('deadLetters')
    .select(['id', 'digest', 'receivedAt', 'channel', 'format', 'recordIndex', 'line', 'code', 'reason', 'issues', 'payload', 'size'])
    .orderBy('receivedAt').orderBy('id').limit(filter.limit + 1);
  if (filter.code) query = query.where('code', '=', filter.code);
  if (filter.format) query = query.where('format', '=', filter.format);
  if (filter.since) query = query.where('receivedAt', '>=', filter.since);
  if (filter.after) {
    const [at, id] = splitCursor(filter.after);
    query = query.where((eb) => eb.or([eb('receivedAt', '>', at), eb.and([eb('receivedAt', '=', at), eb('id', '>', id)])]));
  }
  const rows = await query.execute();
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > filter.limit && last ? `${last.receivedAt.toISOString()}|${last.id}` : null };
}

export function splitCursor(cursor: string): [Date, string] {
  const bar = cursor.indexOf('|');
  const at = new Date(cursor.slice(0, bar));
  return [Number.isNaN(at.getTime()) ? new Date(0) : at, cursor.slice(bar + 1)];
}
