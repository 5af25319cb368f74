import Type, { type Static } from 'typebox';
import { emptyRefs, type FormatParser } from '../event.js';
import { checker, fail, isObject, rfc3339, str } from './shared.js';

/**
 * gitleaks JSON report (`gitleaks detect --report-format json`): an array of findings with
 * PascalCase fields. `Secret` is the leaked value, `Match` the matched text around it; `Date` is
 * the commit's date (RFC 3339, empty for files outside git); `Fingerprint` is
 * `commit:file:rule:line`, gitleaks' own id for a finding.
 */
const Finding = Type.Object({
  Description: Type.Optional(Type.String()),
  StartLine: Type.Integer({ minimum: 0 }),
  EndLine: Type.Optional(Type.Integer({ minimum: 0 })),
  StartColumn: Type.Optional(Type.Integer({ minimum: 0 })),
  EndColumn: Type.Optional(Type.Integer({ minimum: 0 })),
  Match: Type.Optional(Type.String()),
  Secret: Type.String({ minLength: 1 }),
  File: Type.String({ minLength: 1 }),
  SymlinkFile: Type.Optional(Type.String()),
  Commit: Type.Optional(Type.String()),
  Link: Type.Optional(Type.String()),
  Entropy: Type.Optional(Type.Number()),
  Author: Type.Optional(Type.String()),
  Email: Type.Optional(Type.String()),
  Date: Type.Optional(Type.String()),
  Message: Type.Optional(Type.String()),
  Tags: Type.Optional(Type.Array(Type.String())),
  RuleID: Type.String({ minLength: 1 }),
  Fingerprint: Type.Optional(Type.String()),
});

const check = checker(Finding);

export const gitleaks: FormatParser = {
  format: 'gitleaks',
  recognises: (r) => typeof r.RuleID === 'string' && ('Secret' in r || 'Match' in r),
  secretsIn: (r) => (isObject(r) ? [str(r.Secret)].filter((s): s is string => s !== undefined) : []),
  parse(record, receivedAt) {
    if (!check.check(record)) return fail(check.issues(record));
    const r = record as Static<typeof Finding>;
    const committed = rfc3339(r.Date);
    return {
      ok: true,
      event: {
        // A report is a scan's result: the leak is known now, whenever it was committed.
        format: 'gitleaks', source: 'gitleaks', type: 'secret.exposed', time: receivedAt,
        naturalKey: r.Fingerprint || `${r.Commit ?? ''}:${r.File}:${r.RuleID}:${r.StartLine}:${r.StartColumn ?? 0}`,
        refs: emptyRefs(), secrets: [r.Secret],
        action: 'secret.committed', target: r.Commit ? `${r.File}@${r.Commit}` : r.File, outcome: 'success',
        signals: {},
        attributes: {
          rule: r.RuleID, file: r.File, line: r.StartLine, ...(r.Commit ? { commit: r.Commit } : {}),
          ...(Number.isFinite(committed) ? { committedAt: new Date(committed).toISOString() } : {}),
          ...(r.Link ? { link: r.Link } : {}),
        },
        raw: record,
      },
    };
  },
};
