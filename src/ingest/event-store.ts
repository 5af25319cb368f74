import { sql } from 'kysely';
import type { Executor } from '../store/db.js';
import type { IngestedEvent } from './ingested.js';

/**
 * The rows of a batch of events as one JSON array, ready for `insertEvents` (built before the
 * batch takes its turn at the store, so this CPU work overlaps the previous batch's writing).
 */
export function eventRows(events: IngestedEvent[]): string {
  const rows = events.map((e) => ({
    id: e.id,
    dedupe_key: e.dedupeKey,
    source: e.event.source,
    format: e.event.format,
    type: e.event.type,
    time: e.event.time,
    identity_ids: e.resolution.identities.map((i) => i.id),
    credential_ids: [...e.resolution.byFingerprint, ...e.resolution.byCredentialRef].map((c) => c.id),
    fingerprints: e.event.fingerprints,
    jti: e.event.refs.jtis[0] ?? null,
    source_ip: e.event.sourceIp ?? null,
    source_asn: e.event.sourceAsn ?? null,
    source_geo: e.event.sourceGeo ?? null,
    user_agent: e.event.userAgent ?? null,
    action: e.event.action ?? null,
    target: e.event.target ?? null,
    outcome: e.event.outcome,
    attributes: attributesOf(e),
  }));
  // Each row's JSON with the raw record spliced in: a record that arrived as text is not serialized again.
  return `[${rows.map((row, i) => `${JSON.stringify(row).slice(0, -1)},"raw":${events[i]!.rawText ?? JSON.stringify(events[i]!.raw)}}`).join(',')}]`;
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
  const kept: Record<string, unknown> = { ...attributes };
  for (const [k, v] of Object.entries(signals)) if (v !== undefined) kept[k] = v;
  if (refs.externalRefs.length) kept.externalRefs = refs.externalRefs.map((r) => r.value);
  if (refs.credentialRefs.length) kept.credentialRefs = refs.credentialRefs;
  if (refs.jtis.length > 1) kept.jtis = refs.jtis;
  return kept;
}
