import Type, { type Static } from 'typebox';
import { emptyRefs, type FormatParser } from '../event.js';
import { checker, eventTime, fail, isObject, rfc3339, str } from './shared.js';

/**
 * GitHub `secret_scanning_alert` webhook payloads: `action` (created, reopened, resolved,
 * validated, publicly_leaked, …), the `alert` (number, `secret_type`, `validity`, times as
 * ISO 8601 `YYYY-MM-DDTHH:MM:SSZ`) and the `repository`. The webhook omits the secret; the REST
 * alert representation carries it as `alert.secret`, which forwarders often add: when present it
 * is fingerprinted and dropped.
 */
const Alert = Type.Object({
  number: Type.Integer({ minimum: 1 }),
  created_at: Type.String(),
  updated_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  url: Type.Optional(Type.String()),
  html_url: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  secret_type: Type.String({ minLength: 1 }),
  secret_type_display_name: Type.Optional(Type.String()),
  secret: Type.Optional(Type.String({ minLength: 1 })),
  validity: Type.Optional(Type.Enum(['active', 'inactive', 'unknown'])),
  resolution: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  resolved_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  publicly_leaked: Type.Optional(Type.Boolean()),
  push_protection_bypassed: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
});

const Payload = Type.Object({
  action: Type.String({ minLength: 1 }),
  alert: Alert,
  repository: Type.Object({ full_name: Type.String({ minLength: 1 }), private: Type.Optional(Type.Boolean()) }),
  organization: Type.Optional(Type.Object({ login: Type.Optional(Type.String()) })),
  sender: Type.Optional(Type.Object({ login: Type.Optional(Type.String()) })),
});

const check = checker(Payload);

/** Actions that report a live exposure; the others (resolved, assigned …) are kept as findings. */
const EXPOSING = new Set(['created', 'reopened', 'publicly_leaked', 'validated']);

export const githubSecretScanning: FormatParser = {
  format: 'github-secret-scanning',
  recognises: (r) => typeof r.action === 'string' && isObject(r.alert) && typeof r.alert.secret_type === 'string',
  secretsIn: (r) => {
    const secret = isObject(r) && isObject(r.alert) ? str(r.alert.secret) : undefined;
    return secret ? [secret] : [];
  },
  parse(record) {
    if (!check.check(record)) return fail(check.issues(record));
    const r = record as Static<typeof Payload>;
    const at = r.action === 'created' ? r.alert.created_at : (r.alert.updated_at ?? r.alert.created_at);
    const time = eventTime(at, r.action === 'created' || !r.alert.updated_at ? '/alert/created_at' : '/alert/updated_at', rfc3339);
    if (!(time instanceof Date)) return fail([time]);
    const live = EXPOSING.has(r.action) && !(r.action === 'validated' && r.alert.validity !== 'active');
    return {
      ok: true,
      event: {
        format: 'github-secret-scanning', source: `github:${r.organization?.login ?? r.repository.full_name.split('/')[0]}`,
        type: live ? 'secret.exposed' : 'finding', time,
        naturalKey: `${r.repository.full_name}#${r.alert.number}:${r.action}:${at}`,
        refs: emptyRefs(), secrets: r.alert.secret ? [r.alert.secret] : [],
        action: `secret_scanning_alert.${r.action}`, target: r.repository.full_name, outcome: 'success',
        signals: { verified: r.alert.validity === 'active' ? true : r.alert.validity === 'inactive' ? false : undefined },
        attributes: {
          alert: r.alert.number, secretType: r.alert.secret_type, ...(r.alert.html_url ? { url: r.alert.html_url } : {}),
          ...(r.alert.validity ? { validity: r.alert.validity } : {}), ...(r.alert.publicly_leaked ? { publiclyLeaked: true } : {}),
          ...(r.repository.private !== undefined ? { privateRepository: r.repository.private } : {}),
        },
        raw: record,
      },
    };
  },
};
