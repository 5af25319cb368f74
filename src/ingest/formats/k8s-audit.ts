import Type, { type Static } from 'typebox';
import { emptyRefs, type FormatParser } from '../event.js';
import { checker, eventTime, fail, isObject, rfc3339, str, uniq } from './shared.js';

/**
 * Kubernetes audit events, `audit.k8s.io/v1` `Event` (one per line in a log backend file, or
 * the items of an `EventList` from a webhook backend). Timestamps are RFC 3339 with microseconds.
 * A service account's token id is in `user.extra["authentication.kubernetes.io/credential-id"]`
 * as `JTI=<jti>` (Kubernetes ≥ 1.29).
 */
const UserInfo = Type.Object({
  username: Type.String({ minLength: 1 }),
  uid: Type.Optional(Type.String()),
  groups: Type.Optional(Type.Array(Type.String())),
  extra: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
});

const AuditEvent = Type.Object({
  kind: Type.Literal('Event'),
  apiVersion: Type.Literal('audit.k8s.io/v1'),
  level: Type.Enum(['None', 'Metadata', 'Request', 'RequestResponse']),
  auditID: Type.String({ minLength: 1 }),
  stage: Type.Enum(['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic']),
  requestURI: Type.String(),
  verb: Type.String({ minLength: 1 }),
  user: UserInfo,
  impersonatedUser: Type.Optional(UserInfo),
  sourceIPs: Type.Optional(Type.Array(Type.String())),
  userAgent: Type.Optional(Type.String()),
  objectRef: Type.Optional(Type.Object({
    resource: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    apiGroup: Type.Optional(Type.String()),
    apiVersion: Type.Optional(Type.String()),
    subresource: Type.Optional(Type.String()),
  })),
  responseStatus: Type.Optional(Type.Object({ code: Type.Optional(Type.Integer()) })),
  requestReceivedTimestamp: Type.String(),
  stageTimestamp: Type.String(),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const check = checker(AuditEvent);

const CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';
const READS = new Set(['get', 'list', 'watch']);
const RBAC = new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']);

function privileged(verb: string, resource: string | undefined, subresource: string | undefined): boolean {
  if (!resource) return false;
  if (resource === 'secrets') return true;
  if (RBAC.has(resource) && !READS.has(verb)) return true;
  if (resource === 'pods' && (subresource === 'exec' || subresource === 'attach')) return true;
  return verb === 'impersonate' || (resource === 'serviceaccounts' && subresource === 'token');
}

/** Secret data in Request/RequestResponse-level events of `secrets` objects. */
function secretData(record: unknown): string[] {
  if (!isObject(record) || !isObject(record.objectRef) || record.objectRef.resource !== 'secrets') return [];
  const values: string[] = [];
  for (const body of [record.requestObject, record.responseObject]) {
    const items = isObject(body) && Array.isArray(body.items) ? body.items : [body];
    for (const item of items) {
      if (!isObject(item)) continue;
      for (const field of ['data', 'stringData']) {
        const data = item[field];
        if (isObject(data)) for (const v of Object.values(data)) if (typeof v === 'string' && v) values.push(v);
      }
    }
  }
  return values;
}

export const k8sAudit: FormatParser = {
  format: 'k8s-audit',
  recognises: (r) => typeof r.apiVersion === 'string' && r.apiVersion.startsWith('audit.k8s.io/') && r.kind === 'Event',
  secretsIn: secretData,
  parse(record) {
    if (!check.check(record)) return fail(check.issues(record));
    const r = record as Static<typeof AuditEvent>;
    const time = eventTime(r.stageTimestamp, '/stageTimestamp', rfc3339);
    if (!(time instanceof Date)) return fail([time]);
    const received = eventTime(r.requestReceivedTimestamp, '/requestReceivedTimestamp', rfc3339);
    if (!(received instanceof Date)) return fail([received]);
    const refs = emptyRefs();
    const user = r.impersonatedUser ?? r.user;
    refs.externalRefs.push({ provider: 'kubernetes', value: user.username });
    if (r.impersonatedUser) refs.externalRefs.push({ provider: 'kubernetes', value: r.user.username });
    refs.jtis.push(...uniq((r.user.extra?.[CREDENTIAL_ID] ?? []).map((v) => /^JTI=(.+)$/.exec(v)?.[1])));
    const { resource, subresource, namespace } = r.objectRef ?? {};
    const code = r.responseStatus?.code;
    return {
      ok: true,
      event: {
        format: 'k8s-audit', source: 'kubernetes', time,
        type: resource === 'serviceaccounts' && subresource === 'token' && r.verb === 'create' ? 'token.issued' : 'api.call',
        // Later stages of one request repeat it: the request is the event.
        naturalKey: r.auditID, refs, secrets: secretData(record),
        sourceIp: str(r.sourceIPs?.[0]), userAgent: str(r.userAgent), action: r.verb,
        target: resource ? `k8s:${namespace ?? '*'}/${resource}${subresource ? `/${subresource}` : ''}` : `k8s:${r.requestURI.split('?')[0]}`,
        outcome: code === undefined ? 'unknown' : code < 400 ? 'success' : 'failure',
        signals: { privileged: privileged(r.verb, resource, subresource) },
        attributes: { stage: r.stage, level: r.level, requestURI: r.requestURI, ...(r.objectRef?.name ? { objectName: r.objectRef.name } : {}), ...(code !== undefined ? { status: code } : {}) },
        raw: record,
      },
    };
  },
};
