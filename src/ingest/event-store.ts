import { sql } from 'kysely';
import type { Executor } from '../store/db.js';
import type { IngestedEvent } from './ingested.js';

/**
 * The rows of a batch of events as one JSON array, ready for `insertEvents` (built before the
 * batch takes its turn at the store, so this CPU work overlaps the previous batch's writing).
 */
export function eventRows(events: IngestedEvent[]): string {
  return `[${events.map(eventRow).join(',')}]`;
}

const q = (value: string | undefined | null) => (value === undefined || value === null ? 'null' : JSON.stringify(value));

/** One row's JSON, written field by field (the hottest loop of ingestion); a record that arrived as text is spliced in as it is. */
function eventRow(e: IngestedEvent): string {
  const ev = e.event;
  const credentials = e.resolution.byFingerprint.length || e.resolution.byCredentialRef.length
    ? JSON.stringify([...e.resolution.byFingerprint, ...e.resolution.byCredentialRef].map((c) => c.id)) : '[]';
  return `{"id":${q(e.id)},"dedupe_key":${q(e.dedupeKey)},"source":${q(ev.source)},"format":${q(ev.format)},"type":${q(ev.type)},`
    + `"time":"${ev.time.toISOString()}","identity_ids":${JSON.stringify(e.resolution.identities.map((i) => i.id))},"credential_ids":${credentials},`
    + `"fingerprints":${JSON.stringify(ev.fingerprints)},"jti":${q(ev.refs.jtis[0])},"source_ip":${q(ev.sourceIp)},`
    + `"source_asn":${ev.sourceAsn ?? 'null'},"source_geo":${q(ev.sourceGeo)},"user_agent":${q(ev.userAgent)},"action":${q(ev.action)},`
    + `"target":${q(ev.target)},"outcome":${q(ev.outcome)},"attributes":${JSON.stringify(attributesOf(e))},`
    + `"raw":${e.rawText ?? JSON.stringify(e.raw)}}`;
}

/**
 * Writes a batch of events in one statement: the rows travel as one JSON array parameter
 * (`eventRows`) and `json_populate_recordset` turns it into rows of `events` (one parse, no
 * parameter limit, the raw record embedded as it is rather than escaped once more). A dedupe
 * key already stored is skipped; the ids returned are the rows this statement inserted.
 */
export async function insertEvents(db: Executor, rows: string): Promise<Set<string>> {
  if (rows === '[]') return new Set();
  const { rows: inserted } = await sql<{ id: string }>`
    insert into events (id, dedupe_key, source, format, type, time, identity_ids, credential_ids, fingerprints, jti,
                        source_ip, source_asn, source_geo, user_agent, action, target, outcome, attributes, raw)
    select id, dedupe_key, source, format, type, time, identity_ids, credential_ids, fingerprints, jti,
           source_ip, source_asn, source_geo, user_agent, action, target, outcome, attributes, raw
      from json_populate_recordset(null::events, ${rows}::json)
    on conflict (dedupe_key) do nothing
    returning id`.execute(db);
  return new Set(inserted.map((r) => r.id));
}

/** What is kept in `events.attributes`: the format's extra facts and the detectors' signals. */
export function attributesOf(e: IngestedEvent): Record<string, unknown> {
  const { signals, attributes, refs } = e.event;
  const kept: Record<string, unknown> = {};
  for (const k in attributes) if (attributes[k] !== undefined) kept[k] = attributes[k];
  for (const k in signals) {
    const v = signals[k as keyof typeof signals];
    if (v !== undefined) kept[k] = v;
  }
  if (refs.externalRefs.length) kept.externalRefs = refs.externalRefs.map((r) => r.value);
  if (refs.credentialRefs.length) kept.credentialRefs = refs.credentialRefs;
  if (refs.jtis.length > 1) kept.jtis = refs.jtis;
  return kept;
}
