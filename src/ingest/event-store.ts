import { sql } from 'kysely';
import type { Executor } from '../store/db.js';
import type { IngestedEvent } from './ingested.js';

/**
 * Writes a batch of events in one statement: every column is sent as one array parameter and
 * `unnest` turns them back into rows (no parameter limit, one plan). A dedupe key already
 * stored is skipped; the ids returned are the rows this statement inserted.
 */
export async function insertEvents(db: Executor, events: IngestedEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const col = <T>(pick: (e: IngestedEvent) => T) => events.map(pick);
  const { rows } = await sql<{ id: string }>`
    insert into events (id, dedupe_key, source, format, type, time, identity_ids, credential_ids, fingerprints, jti,
                        source_ip, source_asn, source_geo, user_agent, action, target, outcome, attributes, raw)
    select id, dedupe_key, source, format, type, time, identity_ids::text[], credential_ids::text[], fingerprints::text[], jti,
           source_ip, source_asn, source_geo, user_agent, action, target, outcome, attributes::jsonb, raw::jsonb
      from unnest(${col((e) => e.id)}::text[], ${col((e) => e.dedupeKey)}::text[], ${col((e) => e.event.source)}::text[],
                  ${col((e) => e.event.format)}::text[], ${col((e) => e.event.type)}::text[], ${col((e) => e.event.time.toISOString())}::timestamptz[],
                  ${col((e) => arrayLiteral(e.resolution.identities.map((i) => i.id)))}::text[],
                  ${col((e) => arrayLiteral([...e.resolution.byFingerprint, ...e.resolution.byCredentialRef].map((c) => c.id)))}::text[],
                  ${col((e) => arrayLiteral(e.event.fingerprints))}::text[], ${col((e) => e.event.refs.jtis[0] ?? null)}::text[],
                  ${col((e) => e.event.sourceIp ?? null)}::text[], ${col((e) => e.event.sourceAsn ?? null)}::bigint[],
                  ${col((e) => e.event.sourceGeo ?? null)}::text[], ${col((e) => e.event.userAgent ?? null)}::text[],
                  ${col((e) => e.event.action ?? null)}::text[], ${col((e) => e.event.target ?? null)}::text[],
                  ${col((e) => e.event.outcome)}::text[], ${col((e) => JSON.stringify(attributesOf(e)))}::text[],
                  ${col((e) => JSON.stringify(e.raw))}::text[])
        as t(id, dedupe_key, source, format, type, time, identity_ids, credential_ids, fingerprints, jti,
             source_ip, source_asn, source_geo, user_agent, action, target, outcome, attributes, raw)
    on conflict (dedupe_key) do nothing
    returning id`.execute(db);
  return new Set(rows.map((r) => r.id));
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

/** A PostgreSQL array literal (`{"a","b\\"c"}`): a text[] row value inside an array parameter. */
export function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
