import Type, { type Static } from 'typebox';
import type { EventType, Outcome } from '../../domain/event.js';
import type { Provider } from '../../domain/identity.js';
import { emptyRefs, type FormatParser, type IdentityRefs } from '../event.js';
import { checker, epochMillis, eventTime, fail, isIp, str, uniq } from './shared.js';

/**
 * OCSF events of three classes: API Activity (6003, category 6), Authentication (3002,
 * category 3) and Detection Finding (2004, category 2). `time` is `timestamp_t`, milliseconds
 * since the epoch; `type_uid` is `class_uid * 100 + activity_id`; `status_id` 1 is success,
 * 2 failure. Who acted is `actor.user` (and `user` for Authentication, the account logging on);
 * `actor.session.credential_uid` is the credential (e.g. an AWS access key id).
 */
const User = Type.Object({ uid: Type.Optional(Type.String()), name: Type.Optional(Type.String()), type: Type.Optional(Type.String()) });
const Session = Type.Object({ uid: Type.Optional(Type.String()), credential_uid: Type.Optional(Type.String()), expiration_time: Type.Optional(Type.Integer()) });
const Endpoint = Type.Object({
  ip: Type.Optional(Type.String()),
  hostname: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  location: Type.Optional(Type.Object({ country: Type.Optional(Type.String()), city: Type.Optional(Type.String()) })),
  autonomous_system: Type.Optional(Type.Object({ number: Type.Optional(Type.Integer({ minimum: 0 })), name: Type.Optional(Type.String()) })),
});
const Actor = Type.Object({ user: Type.Optional(User), session: Type.Optional(Session), app_name: Type.Optional(Type.String()) });

const Base = {
  activity_id: Type.Integer({ minimum: 0, maximum: 99 }),
  category_uid: Type.Integer(),
  class_uid: Type.Integer(),
  severity_id: Type.Integer({ minimum: 0, maximum: 99 }),
  time: Type.Integer({ minimum: 0 }),
  type_uid: Type.Optional(Type.Integer()),
  status_id: Type.Optional(Type.Integer()),
  metadata: Type.Object({
    version: Type.String({ minLength: 1 }),
    uid: Type.Optional(Type.String()),
    product: Type.Object({ name: Type.Optional(Type.String()), vendor_name: Type.Optional(Type.String()) }),
  }),
  actor: Type.Optional(Actor),
  src_endpoint: Type.Optional(Endpoint),
  dst_endpoint: Type.Optional(Endpoint),
  http_request: Type.Optional(Type.Object({ user_agent: Type.Optional(Type.String()) })),
  cloud: Type.Optional(Type.Object({ provider: Type.Optional(Type.String()) })),
};

const ApiActivity = Type.Object({
  ...Base,
  category_uid: Type.Literal(6),
  class_uid: Type.Literal(6003),
  actor: Actor,
  api: Type.Object({ operation: Type.String({ minLength: 1 }), service: Type.Optional(Type.Object({ name: Type.Optional(Type.String()) })) }),
  src_endpoint: Endpoint,
  resources: Type.Optional(Type.Array(Type.Object({ name: Type.Optional(Type.String()), uid: Type.Optional(Type.String()), type: Type.Optional(Type.String()) }))),
});

const Authentication = Type.Object({
  ...Base,
  category_uid: Type.Literal(3),
  class_uid: Type.Literal(3002),
  user: User,
  session: Type.Optional(Session),
  service: Type.Optional(Type.Object({ name: Type.Optional(Type.String()) })),
  is_mfa: Type.Optional(Type.Boolean()),
});

const DetectionFinding = Type.Object({
  ...Base,
  category_uid: Type.Literal(2),
  class_uid: Type.Literal(2004),
  finding_info: Type.Object({ uid: Type.String({ minLength: 1 }), title: Type.Optional(Type.String()), types: Type.Optional(Type.Array(Type.String())) }),
});

const checks = { 6003: checker(ApiActivity), 3002: checker(Authentication), 2004: checker(DetectionFinding) } as const;
type Classes = { 6003: Static<typeof ApiActivity>; 3002: Static<typeof Authentication>; 2004: Static<typeof DetectionFinding> };

function provider(cloud: string | undefined): Provider | undefined {
  return cloud?.toLowerCase() === 'aws' ? 'aws' : undefined;
}

function refsOf(users: (Static<typeof User> | undefined)[], sessions: (Static<typeof Session> | undefined)[], cloud?: string): IdentityRefs {
  const refs = emptyRefs();
  for (const value of uniq(users.flatMap((u) => [str(u?.uid), str(u?.name)]))) refs.externalRefs.push({ provider: provider(cloud), value });
  refs.credentialRefs.push(...uniq(sessions.map((s) => str(s?.credential_uid))));
  refs.jtis.push(...uniq(sessions.map((s) => str(s?.uid))));
  return refs;
}

function outcome(statusId: number | undefined): Outcome {
  return statusId === 1 ? 'success' : statusId === 2 ? 'failure' : 'unknown';
}

export const ocsf: FormatParser = {
  format: 'ocsf',
  recognises: (r) => typeof r.class_uid === 'number' && typeof r.category_uid === 'number' && 'metadata' in r,
  secretsIn: () => [],
  parse(record) {
    const classUid = (record as { class_uid?: unknown } | null)?.class_uid;
    if (classUid !== 6003 && classUid !== 3002 && classUid !== 2004) {
      return fail([{ path: '/class_uid', message: 'must be one of the supported OCSF classes: 6003 (API Activity), 3002 (Authentication), 2004 (Detection Finding)' }]);
    }
    if (!checks[classUid].check(record)) return fail(checks[classUid].issues(record));
    const r = record as Classes[typeof classUid];
    if (r.type_uid !== undefined && r.type_uid !== r.class_uid * 100 + r.activity_id) {
      return fail([{ path: '/type_uid', message: `must be class_uid * 100 + activity_id (${r.class_uid * 100 + r.activity_id})` }]);
    }
    const time = eventTime(r.time, '/time', epochMillis);
    if (!(time instanceof Date)) return fail([time]);
    let type: EventType;
    let refs: IdentityRefs;
    let action: string | undefined;
    let target: string | undefined;
    const attributes: Record<string, unknown> = { classUid: r.class_uid, activityId: r.activity_id, severityId: r.severity_id };
    if (r.class_uid === 6003) {
      const a = r as Classes[6003];
      type = 'api.call';
      refs = refsOf([a.actor.user], [a.actor.session], a.cloud?.provider);
      action = a.api.operation;
      target = str(a.api.service?.name) ?? str(a.dst_endpoint?.hostname) ?? str(a.resources?.[0]?.name);
    } else if (r.class_uid === 3002) {
      const a = r as Classes[3002];
      // Logon (1) is a login; Authentication Ticket (3) and Service Ticket Request (4) issue tickets.
      type = a.activity_id === 1 ? 'auth.login' : a.activity_id === 3 || a.activity_id === 4 ? 'token.issued' : 'api.call';
      refs = refsOf([a.user], [a.session, a.actor?.session], a.cloud?.provider);
      action = `authentication:${a.activity_id}`;
      target = str(a.service?.name) ?? str(a.dst_endpoint?.hostname) ?? str(a.dst_endpoint?.ip);
      if (a.is_mfa !== undefined) attributes.mfa = a.is_mfa;
    } else {
      const a = r as Classes[2004];
      type = 'finding';
      refs = refsOf([a.actor?.user], [a.actor?.session], a.cloud?.provider);
      action = str(a.finding_info.title) ?? 'finding';
      attributes.finding = { uid: a.finding_info.uid, types: a.finding_info.types ?? [] };
    }
    const src = r.src_endpoint;
    const ip = str(src?.ip);
    return {
      ok: true,
      event: {
        format: 'ocsf', source: str(r.metadata.product.name) ?? str(r.metadata.product.vendor_name) ?? 'ocsf', type, time,
        naturalKey: str(r.metadata.uid) ?? (r.class_uid === 2004 ? (r as Classes[2004]).finding_info.uid : ''),
        refs, secrets: [],
        sourceIp: isIp(ip) ? ip : undefined, sourceAsn: src?.autonomous_system?.number, sourceGeo: str(src?.location?.country),
        userAgent: str(r.http_request?.user_agent), action, target, outcome: outcome(r.status_id),
        signals: {}, attributes, raw: record,
      },
    };
  },
};
