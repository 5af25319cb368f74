import type { IngestedEvent } from './ingested.js';

/**
 * The rows of a batch of events, in the two forms the store takes: COPY text (PostgreSQL) and
 * one JSON array per column (any store). Built field by field: this is the hottest loop of
 * ingestion after parsing.
 */

/** The columns written, in the order of both forms. */
export const EVENT_COLUMNS = [
  'id', 'dedupe_key', 'source', 'format', 'type', 'time', 'identity_ids', 'credential_ids', 'fingerprints', 'jti',
  'source_ip', 'source_asn', 'source_geo', 'user_agent', 'action', 'target', 'outcome', 'attributes', 'raw',
] as const;

/**
 * Writes rows as COPY text (tab-separated, `\N` for null) straight into a buffer, so that no
 * per-row string outlives its row; `raw` is the event's record as JSON text.
 */
export function copyRowsWriter(expectedRows: number) {
  // About 2 KiB a row holds most records without the buffer having to grow.
  let buffer = Buffer.allocUnsafe(Math.max(16 * 1024, expectedRows * 2048));
  let length = 0;
  const put = (text: string) => {
    // UTF-8 takes at most three bytes per UTF-16 unit; one more for the row's end.
    if (length + text.length * 3 + 1 > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + text.length * 3 + 1));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    length += buffer.write(text, length);
  };
  const time = isoTimes();
  return {
    write(e: IngestedEvent, raw: string): void {
      const ev = e.event;
      const r = e.resolution;
      // The id (a UUID), the format, type and outcome (vocabulary words) and the time need no escaping.
      // Joined from an array: one string, rather than a rope of a few dozen pieces to flatten.
      put([
        e.id, copyText(e.dedupeKey), copyText(ev.source), ev.format, ev.type, time(ev.time),
        copyText(idArray(r.identities)), copyText(idArray(r.byFingerprint, r.byCredentialRef)), copyText(textArray(ev.fingerprints)),
        copyNullable(ev.refs.jtis[0]), copyNullable(ev.sourceIp), ev.sourceAsn === undefined ? '\\N' : String(ev.sourceAsn), copyNullable(ev.sourceGeo),
        copyNullable(ev.userAgent), copyNullable(ev.action), copyNullable(ev.target), ev.outcome, copyText(attributesJson(e)), '',
      ].join('\t'));
      // The record on its own: it is usually a slice of the input, written without being copied into the row first.
      put(copyText(raw));
      buffer[length++] = 0x0a;
    },
    /** The rows written so far. */
    rows: (): Buffer => buffer.subarray(0, length),
  };
}

/**
 * The rows as one JSON array per column, in `EVENT_COLUMNS` order: scalars through
 * `JSON.stringify` of plain arrays, the raw records (JSON text) spliced in as they are.
 */
export function columnArrays(events: IngestedEvent[], raws: string[]): string[] {
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
    attributes += attributesJson(e);
    raw += raws[i]!;
  }
  return [
    JSON.stringify(id), JSON.stringify(dedupeKey), JSON.stringify(source), JSON.stringify(format), JSON.stringify(type), JSON.stringify(time),
    JSON.stringify(identityIds), JSON.stringify(credentialIds), JSON.stringify(fingerprints), JSON.stringify(jti), JSON.stringify(sourceIp),
    JSON.stringify(sourceAsn), JSON.stringify(sourceGeo), JSON.stringify(userAgent), JSON.stringify(action), JSON.stringify(target),
    JSON.stringify(outcome), `${attributes}]`, `${raw}]`,
  ];
}

/**
 * What is kept in `events.attributes`, as JSON: the format's extra facts and the detectors'
 * signals (a signal wins over an attribute of the same name: jsonb keeps the last of a repeated
 * key), and the references that did not get a column of their own.
 */
export function attributesJson(e: IngestedEvent): string {
  const { signals, attributes, refs } = e.event;
  // Undefined values are left out, as JSON.stringify leaves them out of an object.
  let extra = '';
  for (const k in signals) {
    const v = signals[k as keyof typeof signals];
    if (v !== undefined) extra += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  if (refs.externalRefs.length) extra += `,"externalRefs":${JSON.stringify(refs.externalRefs.map((r) => r.value))}`;
  if (refs.credentialRefs.length) extra += `,"credentialRefs":${JSON.stringify(refs.credentialRefs)}`;
  if (refs.jtis.length > 1) extra += `,"jtis":${JSON.stringify(refs.jtis)}`;
  const own = JSON.stringify(attributes);
  if (!extra) return own;
  return own === '{}' ? `{${extra.slice(1)}}` : `${own.slice(0, -1)}${extra}}`;
}

/** ISO 8601 text of event times; events of one batch often share a time (a second, for CloudTrail). */
function isoTimes(): (time: Date) => string {
  let last = NaN;
  let text = '';
  return (time) => {
    const ms = time.getTime();
    if (ms !== last) {
      last = ms;
      text = time.toISOString();
    }
    return text;
  };
}

/** Characters COPY text format escapes. */
const COPY_SPECIALS = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function copyText(value: string): string {
  // Four indexOf scans cost a tenth of one character-class regex over a raw record.
  if (value.indexOf('\\') === -1 && value.indexOf('\t') === -1 && value.indexOf('\n') === -1 && value.indexOf('\r') === -1) return value;
  return value.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!);
}

function copyNullable(value: string | undefined): string {
  return value === undefined ? '\\N' : copyText(value);
}

/** Elements that need no quoting in a PostgreSQL array literal. */
const PLAIN_ELEMENT = /^[^\s{}",\\]+$/;
const NONE: readonly { id: string }[] = [];

/** A `text[]` literal of the ids of two lists (`{a,"b c"}`). */
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

function arrayElement(value: string): string {
  return PLAIN_ELEMENT.test(value) && !(value.length === 4 && value.toLowerCase() === 'null') ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
