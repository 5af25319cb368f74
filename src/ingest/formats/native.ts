import Type, { type Static } from 'typebox';
import { EVENT_TYPES, OUTCOMES } from '../../domain/event.js';
import { PROVIDERS } from '../../domain/identity.js';
import { emptyRefs, type FormatParser } from '../event.js';
import { checker, eventTime, fail, isObject, rfc3339, str } from './shared.js';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Cordon's own event shape, for producers that have no standard format (documented in docs/ingest.md). */
export const NativeEventSchema = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The producer\'s id for the event: sending it again is a duplicate' })),
  type: Type.Enum(EVENT_TYPES),
  time: Type.String({ format: 'date-time' }),
  source: Type.Optional(Text(200)),
  identity: Type.Optional(Type.Object({
    id: Type.Optional(Text(200)),
    externalRef: Type.Optional(Text(300)),
    provider: Type.Optional(Type.Enum(PROVIDERS)),
    credential: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'A credential\'s id on its provider (an AWS access key id)' })),
    jti: Type.Optional(Text(300)),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000, description: 'A leaked value: fingerprinted on arrival, never stored' })),
  }, { additionalProperties: false })),
  sourceIp: Type.Optional(Text(100)),
  asn: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
  geo: Type.Optional(Text(100)),
  userAgent: Type.Optional(Text(1000)),
  action: Type.Optional(Text(300)),
  target: Type.Optional(Text(500)),
  outcome: Type.Optional(Type.Enum(OUTCOMES)),
  privileged: Type.Optional(Type.Boolean()),
  scopes: Type.Optional(Type.Array(Text(300), { maxItems: 200 })),
  parentJti: Type.Optional(Text(300)),
  tokenExpiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { additionalProperties: false });

const check = checker(NativeEventSchema);

export const native: FormatParser = {
  format: 'native',
  recognises: (r) => typeof r.type === 'string',
  secretsIn: (r) => {
    const secret = isObject(r) && isObject(r.identity) ? str(r.identity.secret) : undefined;
    return secret ? [secret] : [];
  },
  parse(record) {
    if (!check.check(record)) return fail(check.issues(record));
    const r = record as Static<typeof NativeEventSchema>;
    const time = eventTime(r.time, '/time', rfc3339);
    if (!(time instanceof Date)) return fail([time]);
    const refs = emptyRefs();
    const who = r.identity ?? {};
    if (who.id) refs.identityIds.push(who.id);
    if (who.externalRef) refs.externalRefs.push({ provider: who.provider, value: who.externalRef });
    if (who.credential) refs.credentialRefs.push(who.credential);
    if (who.jti) refs.jtis.push(who.jti);
    return {
      ok: true,
      event: {
        format: 'native', source: r.source ?? 'native', type: r.type, time,
        naturalKey: r.id ?? '', refs, secrets: who.secret ? [who.secret] : [],
        sourceIp: r.sourceIp, sourceAsn: r.asn, sourceGeo: r.geo, userAgent: r.userAgent, action: r.action, target: r.target,
        outcome: r.outcome ?? 'unknown',
        signals: { privileged: r.privileged, scopes: r.scopes, parentJti: r.parentJti, tokenExpiresAt: r.tokenExpiresAt },
        attributes: r.attributes ?? {},
        raw: record,
      },
    };
  },
};
