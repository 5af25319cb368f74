import Type, { type Static } from 'typebox';
import { emptyRefs, type FormatParser } from '../event.js';
import { checker, fail, isObject, str } from './shared.js';

/**
 * trufflehog v3 `--json` output: one JSON object per line per result. `Raw` is the secret (or
 * its id part), `RawV2` the id and secret together for multi-part credentials, `Redacted` a
 * display form; `SourceMetadata.Data.<Source>` says where it was found (for git: commit, file,
 * line, repository and the commit `timestamp` as `2006-01-02 15:04:05 -0700`).
 */
const Result = Type.Object({
  SourceMetadata: Type.Object({ Data: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())) }),
  SourceID: Type.Optional(Type.Integer()),
  SourceType: Type.Optional(Type.Integer()),
  SourceName: Type.Optional(Type.String()),
  DetectorType: Type.Integer({ minimum: 0 }),
  DetectorName: Type.String({ minLength: 1 }),
  DetectorDescription: Type.Optional(Type.String()),
  DecoderName: Type.Optional(Type.String()),
  Verified: Type.Boolean(),
  VerificationError: Type.Optional(Type.String()),
  Raw: Type.String({ minLength: 1 }),
  RawV2: Type.Optional(Type.String()),
  Redacted: Type.Optional(Type.String()),
  ExtraData: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
  StructuredData: Type.Optional(Type.Unknown()),
});

const check = checker(Result);

function secrets(r: unknown): string[] {
  if (!isObject(r)) return [];
  return [str(r.Raw), str(r.RawV2)].filter((s): s is string => s !== undefined);
}

/** `2022-06-16 10:17:40 -0700` (Go's default layout, sometimes followed by a zone name). */
function gitTimestamp(value: unknown): string | undefined {
  const m = typeof value === 'string' && /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})/.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

export const trufflehog: FormatParser = {
  format: 'trufflehog',
  recognises: (r) => typeof r.DetectorName === 'string' && 'SourceMetadata' in r,
  secretsIn: secrets,
  parse(record, receivedAt) {
    if (!check.check(record)) return fail(check.issues(record));
    const r = record as Static<typeof Result>;
    const [sourceKind, where] = Object.entries(r.SourceMetadata.Data)[0] ?? ['unknown', {}];
    const location = [str(where.repository) ?? str(where.bucket) ?? str(where.link), str(where.file) ?? str(where.object) ?? str(where.path)]
      .filter(Boolean).join(':');
    const committedAt = gitTimestamp(where.timestamp);
    return {
      ok: true,
      event: {
        format: 'trufflehog', source: r.SourceName ?? 'trufflehog', type: 'secret.exposed', time: receivedAt,
        // The same secret found at the same place is the same finding; the value enters the key only as a fingerprint.
        naturalKey: '', refs: emptyRefs(), secrets: secrets(record),
        action: 'secret.found', target: location || sourceKind, outcome: 'success',
        signals: { verified: r.Verified },
        attributes: {
          detector: r.DetectorName, source: sourceKind, ...(str(where.commit) ? { commit: where.commit } : {}),
          ...(typeof where.line === 'number' ? { line: where.line } : {}), ...(committedAt ? { committedAt } : {}),
        },
        raw: record,
      },
    };
  },
};
