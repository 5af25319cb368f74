import type { TSchema } from 'typebox';
import type { Issue } from '../../domain/errors.js';
import { validator, type Validator } from '../../domain/validation.js';
import type { ParseResult } from '../event.js';

/** Clock skew tolerated for event times in the future. */
const MAX_FUTURE_MS = 24 * 3600_000;
const EARLIEST = Date.UTC(2000, 0, 1);

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Schema check that reports every offending field (TypeBox, so the message names the path). */
export function checker<S extends TSchema>(schema: S): Validator<S> {
  return validator(schema);
}

export function fail(issues: Issue[]): ParseResult {
  return { ok: false, issues: issues.length ? issues : [{ path: '', message: 'does not have the shape the format documents' }] };
}

/** An event time: a `Date`, or the issue naming the field. */
export function eventTime(value: unknown, path: string, parse: (v: unknown) => number): Date | Issue {
  const ms = parse(value);
  if (!Number.isFinite(ms)) return { path, message: 'is not a valid timestamp' };
  if (ms < EARLIEST || ms > Date.now() + MAX_FUTURE_MS) return { path, message: 'is outside the accepted range (2000-01-01 to tomorrow)' };
  return new Date(ms);
}

/** RFC 3339 / ISO 8601 with a zone (`2024-05-01T10:00:00Z`, `…+02:00`, fractions allowed). */
export function rfc3339(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.test(value)) return NaN;
  return Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
}

/** Milliseconds since the epoch (OCSF `timestamp_t`). */
export function epochMillis(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : NaN;
}

export function isIp(value: string | undefined): value is string {
  if (!value) return false;
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(value) || (/^[0-9a-f:]+$/i.test(value) && value.includes(':'));
}

export function uniq<T>(values: (T | undefined)[]): T[] {
  return [...new Set(values.filter((v): v is T => v !== undefined))];
}
