import { isObject } from './formats/shared.js';
import { SLICE, yieldToEventLoop } from './slices.js';

/** One record of a request body or file, as found: parsed, or with why it could not be. */
export interface RawRecord {
  /** Position in the batch, from 0: errors name it. */
  index: number;
  /** Line number (from 1) in NDJSON input. */
  line?: number;
  value?: unknown;
  /** The record's text, when it came as its own line (NDJSON) or is not JSON. */
  text?: string;
  error?: { code: string; message: string };
}

/**
 * Splits input into records: one JSON object, a JSON array, or NDJSON (one JSON value per line).
 * A CloudTrail log file (`{"Records": […]}`) and a Kubernetes `EventList` are unwrapped into
 * their events. An array or container inside NDJSON is unwrapped the same way.
 */
export async function splitRecords(input: string | unknown): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  const suspect = typeof input !== 'string' || MAYBE_UNSTORABLE.test(input);
  const push = (value: unknown, line?: number, text?: string) => {
    const items = unwrap(value);
    for (const item of items) records.push(recordOf(records.length, item, suspect, line, items.length === 1 && item === value ? text : undefined));
  };
  if (typeof input !== 'string') {
    push(input);
    return records;
  }
  const body = input.trim();
  if (body === '') return records;
  const whole = parseJson(body);
  if (whole.ok) {
    push(whole.value, undefined, body);
    return records;
  }
  // A document that opens as an array is one JSON text: splitting it into lines would only multiply the error.
  if (body.startsWith('[')) {
    records.push({ index: 0, text: body, error: { code: 'ERR_EVENT_UNPARSEABLE', message: `the body is not valid JSON${whole.at}` } });
    return records;
  }
  const lines = input.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (i % SLICE === SLICE - 1) await yieldToEventLoop();
    const text = lines[i]!.trim();
    if (text === '') continue;
    const parsed = parseJson(text);
    if (parsed.ok) push(parsed.value, i + 1, text);
    else records.push({ index: records.length, line: i + 1, text, error: { code: 'ERR_EVENT_UNPARSEABLE', message: `line ${i + 1} is not valid JSON${parsed.at}` } });
  }
  return records;
}

/** Deeper than any format nests; deeper still would only exhaust the stack of whatever walks it. */
const MAX_DEPTH = 64;

/**
 * What PostgreSQL cannot store in text or jsonb: NUL, and UTF-16 surrogates without their pair.
 * Only a body that could hold one (it has such an escape or character) is searched record by record.
 */
const MAYBE_UNSTORABLE = /\\u0000|\\u[dD][89a-fA-F]|[\uD800-\uDFFF]/;
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function recordOf(index: number, value: unknown, suspect: boolean, line?: number, text?: string): RawRecord {
  if (nestedDeeperThan(value, MAX_DEPTH)) {
    return { index, line, text: stringified(value), error: { code: 'ERR_EVENT_TOO_DEEP', message: `a record may nest at most ${MAX_DEPTH} levels` } };
  }
  if (suspect && holdsUnstorable(value)) {
    return { index, line, text: text ?? stringified(value), error: { code: 'ERR_EVENT_UNSTORABLE_TEXT', message: 'a record may not contain the NUL character (\\u0000) or an unpaired UTF-16 surrogate' } };
  }
  if (!isObject(value)) {
    return { index, line, value, text, error: { code: 'ERR_EVENT_NOT_OBJECT', message: `a record must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` } };
  }
  return { index, line, value, text };
}

function unwrap(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => (Array.isArray(v) ? [v] : unwrapContainer(v)));
  return unwrapContainer(value);
}

function unwrapContainer(value: unknown): unknown[] {
  if (isObject(value)) {
    if (Array.isArray(value.Records) && Object.keys(value).length === 1) return value.Records;
    if (value.kind === 'EventList' && typeof value.apiVersion === 'string' && value.apiVersion.startsWith('audit.k8s.io/') && Array.isArray(value.items)) return value.items;
  }
  return [value];
}

/**
 * JSON.parse, with an error that gives the position only: the engine's own message quotes the
 * input, which may hold a secret.
 */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; at: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    return { ok: false, at: position ? ` (at character ${position})` : '' };
  }
}

function nestedDeeperThan(node: unknown, max: number): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (max === 0) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) if (nestedDeeperThan(node[i], max - 1)) return true;
    return false;
  }
  const object = node as Record<string, unknown>;
  for (const key in object) if (nestedDeeperThan(object[key], max - 1)) return true;
  return false;
}

function stringified(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '';
  }
}

function holdsUnstorable(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (UNSTORABLE.test(node)) return true;
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (UNSTORABLE.test(key)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}
