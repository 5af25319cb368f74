import { sql } from 'kysely';
import type { Executor } from '../store/db.js';
import type { IngestedEvent } from './ingested.js';

/**
 * A batch of events as `insertEvents` sends it: one JSON array per column (built before the batch
 * takes its turn at the store, so this CPU work overlaps the previous batch's writing).
 */
export interface EventColumns {
  size: number;
  /** The events' ids, in order. */
  ids: string[];
  /** Per column, in `COLUMNS` order: a JSON array with one value per event. */
  arrays: string[];
}

/** The columns written, in the order of `EventColumns.arrays`. */
const COLUMNS = [
  'id', 'dedupe_key', 'source', 'format', 'type', 'time', 'identity_ids', 'credential_ids', 'fingerprints', 'jti',
  'source_ip', 'source_asn', 'source_geo', 'user_agent', 'action', 'target', 'outcome', 'attributes', 'raw',
] as const;

/** The columns of a batch: scalars through `JSON.stringify` of plain arrays, raw records (JSON text, one per event) spliced in. */
export function eventColumns(events: IngestedEvent[], raws: string[]): EventColumns {
  const id: string[] = [], dedupeKey: string[] = [], source: string[] = [], format: string[] = [], type: string[] = [], time: string[] = [];
  const identityIds: string[] = [], credentialIds: string[] = [], fingerprints: string[] = [];
  const jti: (string | null)[] = [], sourceIp: (string | null)[] = [], sourceAsn: (number | null)[] = [], sourceGeo: (string | null)[] = [];
  const userAgent: (string | null)[] = [], action: (string | null)[] = [], target: (string | null)[] = [], outcome: string[] = [];
  let attributes = '[';
  let raw = '[';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const ev = e.event;
    const r = e.resolution;
    id.push(e.id);
    dedupeKey.push(e.dedupeKey);
    source.push(ev.source);
    format.push(ev.format);
    type.push(ev.type);
    time.push(ev.time.toISOString());
    identityIds.push(idArray(r.identities));
    credentialIds.push(idArray(r.byFingerprint, r.byCredentialRef));
    fingerprints.push(textArray(ev.fingerprints));
    jti.push(ev.refs.jtis[0] ?? null);
    sourceIp.push(ev.sourceIp ?? null);
    sourceAsn.push(ev.sourceAsn ?? null);
    sourceGeo.push(ev.sourceGeo ?? null);
    userAgent.push(ev.userAgent ?? null);
    action.push(ev.action ?? null);
    target.push(ev.target ?? null);
    outcome.push(ev.outcome);
    if (i) {
      attributes += ',';
      raw += ',';
    }
    attributes += JSON.stringify(attributesOf(e));
    raw += raws[i]!;
  }
  const arrays = [
    JSON.stringify(id), JSON.stringify(dedupeKey), JSON.stringify(source), JSON.stringify(format), JSON.stringify(type), JSON.stringify(time),
    JSON.stringify(identityIds), JSON.stringify(credentialIds), JSON.stringify(fingerprints), JSON.stringify(jti), JSON.stringify(sourceIp),
    JSON.stringify(sourceAsn), JSON.stringify(sourceGeo), JSON.stringify(userAgent), JSON.stringify(action), JSON.stringify(target),
    JSON.stringify(outcome), `${attributes}]`, `${raw}]`,
  ];
  return { size: events.length, ids: id, arrays };
}

/** Elements that need no quoting in a PostgreSQL array literal. */
const PLAIN_ELEMENT = /^[^\s{}",\\]+$/;

/** A `text[]` literal of the ids of two lists (`{a,"b c"}`), the form PostgreSQL reads cheapest. */
function idArray(first: readonly { id: string }[], second: readonly { id: string }[] = NONE): string {
  let out = '';
  for (let i = 0; i < first.length; i++) out += (out ? ',' : '') + arrayElement(first[i]!.id);
  for (let i = 0; i < second.length; i++) out += (out ? ',' : '') + arrayElement(second[i]!.id);
  return `{${out}}`;
}

function textArray(values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) out += (out ? ',' : '') + arrayElement(values[i]!);
  return `{${out}}`;
}

const NONE: readonly { id: string }[] = [];

function arrayElement(value: string): string {
  return PLAIN_ELEMENT.test(value) && !(value.length === 4 && value.toLowerCase() === 'null') ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Writes a batch of events in one statement. Each column travels as one JSON array parameter,
 * unnested side by side (`ROWS FROM`): the server parses each value once (the raw record too,
 * taken as it is into the `json` column), with none of the per-field work of
 * `json_populate_recordset`. A dedupe key already stored is skipped. Returns the ids of the rows
 * this statement inserted: all of them when the row count says so (nothing is sent back per
 * row), else those of the batch's fresh ids that are now in the table.
 */
export async function insertEvents(db: Executor, batch: EventColumns): Promise<Set<string>> {
  if (batch.size === 0) return new Set();
  const [id, dedupeKey, source, format, type, time, identityIds, credentialIds, fingerprints, jti, sourceIp, sourceAsn, sourceGeo, userAgent, action, target, outcome, attributes, raw] = batch.arrays;
  const { numAffectedRows } = await sql`
    insert into events (${sql.raw(COLUMNS.join(', '))})
    select id, dedupe_key, source, format, type, time::timestamptz, identity_ids::text[], credential_ids::text[], fingerprints::text[], jti,
           source_ip, source_asn::bigint, source_geo, user_agent, action, target, outcome, attributes, raw
      from rows from (
        json_array_elements_text(${id}::json), json_array_elements_text(${dedupeKey}::json), json_array_elements_text(${source}::json),
        json_array_elements_text(${format}::json), json_array_elements_text(${type}::json), json_array_elements_text(${time}::json),
        json_array_elements_text(${identityIds}::json), json_array_elements_text(${credentialIds}::json),
        json_array_elements_text(${fingerprints}::json), json_array_elements_text(${jti}::json), json_array_elements_text(${sourceIp}::json),
        json_array_elements_text(${sourceAsn}::json), json_array_elements_text(${sourceGeo}::json), json_array_elements_text(${userAgent}::json),
        json_array_elements_text(${action}::json), json_array_elements_text(${target}::json), json_array_elements_text(${outcome}::json),
        jsonb_array_elements(${attributes}::jsonb), json_array_elements(${raw}::json)
      ) as r(${sql.raw(COLUMNS.join(', '))})
    on conflict (dedupe_key) do nothing`.execute(db);
  if (numAffectedRows === BigInt(batch.size)) return new Set(batch.ids);
  // Some were already stored. The ids are fresh (random), so those found are the ones inserted here.
  const { rows } = await sql<{ id: string }>`select id from events where id = any(${batch.ids}::text[])`.execute(db);
  return new Set(rows.map((r) => r.id));
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
