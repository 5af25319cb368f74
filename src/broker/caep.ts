import { randomBytes } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { appendAudit } from '../audit/service.js';
import { InvalidInputError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { validator } from '../domain/validation.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db, Executor } from '../store/db.js';
import { enqueueJob, type Job } from '../store/jobs.js';
import type { SigningKeys } from './keys.js';

/**
 * CAEP (OpenID Continuous Access Evaluation Profile 1.0) events as Security Event Tokens (RFC
 * 8417), pushed to registered receivers per RFC 8935. A SET is signed when the change it reports
 * commits (in the same transaction, as a queued job), so its `jti` stays the same across retries
 * and receivers can deduplicate; the job queue retries failed deliveries with backoff.
 */
export const CAEP_EVENT_TYPES = {
  'session-revoked': 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  'credential-change': 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
} as const;
export type CaepEvent = keyof typeof CAEP_EVENT_TYPES;

export const SET_TYP = 'secevent+jwt';
export const DELIVER_SET_JOB = 'broker.caep.deliver';

export const Receiver = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  endpoint: Type.String({ pattern: '^https?://', maxLength: 2000, description: 'RFC 8935 push endpoint' }),
  audience: Type.String({ minLength: 1, maxLength: 2000, description: 'The `aud` of SETs sent to it' }),
  events: Type.Optional(Type.Array(Type.Enum(Object.keys(CAEP_EVENT_TYPES) as CaepEvent[]), { minItems: 1, description: 'Default: all' })),
  authorization: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'Authorization header value the receiver expects (sealed at rest, never shown)' })),
}, { additionalProperties: false });
export type Receiver = Static<typeof Receiver>;
const receiverCheck = validator(Receiver);

export interface ReceiverInfo {
  id: string;
  endpoint: string;
  audience: string;
  events: CaepEvent[];
  authorization: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Who caused a change, in CAEP's words (`initiating_entity`), and why, for administrators. */
export interface EventReason {
  initiatingEntity: 'admin' | 'user' | 'policy' | 'system';
  reason: string;
}

export function caepTransmitter(deps: {
  db: Db;
  keys: Pick<SigningKeys, 'sign'>;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  issuer: string;
  now: () => number;
}) {
  async function saveReceiver(input: unknown, actor: Actor): Promise<ReceiverInfo> {
    const receiver = receiverCheck.parse(input, 'ERR_BROKER_RECEIVER_INVALID', 'CAEP receiver');
    const sealed = receiver.authorization ? await deps.sealer.seal(receiver.authorization) : null;
    return deps.db.transaction().execute(async (tx) => {
      const values = {
        id: receiver.id, endpoint: receiver.endpoint, audience: receiver.audience,
        events: receiver.events ?? (Object.keys(CAEP_EVENT_TYPES) as CaepEvent[]), authorizationSealed: sealed,
      };
      const row = await tx.insertInto('brokerReceivers').values(values)
        .onConflict((oc) => oc.column('id').doUpdateSet({ ...values, updatedAt: new Date() }))
        .returningAll().executeTakeFirstOrThrow();
      await appendAudit(tx, actor, { action: 'broker.receiver.saved', subject: `receiver:${receiver.id}`, payload: { endpoint: receiver.endpoint, audience: receiver.audience, events: values.events } });
      return toInfo(row);
    });
  }

  async function removeReceiver(id: string, actor: Actor): Promise<void> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await tx.deleteFrom('brokerReceivers').where('id', '=', id).returning('endpoint').executeTakeFirst();
      if (!row) throw new NotFoundError('ERR_BROKER_RECEIVER_NOT_FOUND', `CAEP receiver "${id}" does not exist`);
      await appendAudit(tx, actor, { action: 'broker.receiver.deleted', subject: `receiver:${id}`, payload: { endpoint: row.endpoint } });
    });
  }

  async function listReceivers(): Promise<ReceiverInfo[]> {
    return (await deps.db.selectFrom('brokerReceivers').selectAll().orderBy('id').execute()).map(toInfo);
  }

  /** Signs one SET per event for every receiver subscribed to it, and queues their delivery. */
  async function queue(tx: Executor, event: CaepEvent, subjects: { subId: Record<string, unknown>; claims: Record<string, unknown> }[], actor: Actor): Promise<number> {
    if (subjects.length === 0) return 0;
    const receivers = (await tx.selectFrom('brokerReceivers').select(['id', 'audience', 'events']).orderBy('id').execute())
      .filter((r) => r.events.includes(event));
    let queued = 0;
    const iat = Math.floor(deps.now() / 1000);
    for (const receiver of receivers) {
      for (const subject of subjects) {
        const { token } = deps.keys.sign(SET_TYP, {
          iss: deps.issuer, jti: randomBytes(16).toString('hex'), iat, aud: receiver.audience,
          sub_id: subject.subId,
          events: { [CAEP_EVENT_TYPES[event]]: { ...subject.claims, event_timestamp: iat } },
        });
        await enqueueJob(tx, { kind: DELIVER_SET_JOB, payload: { receiverId: receiver.id, event, set: token }, createdBy: actor.id, maxAttempts: 8 });
        queued++;
      }
    }
    return queued;
  }

  return {
    saveReceiver,
    removeReceiver,
    listReceivers,
    /** `session-revoked` for each revoked token: the session by its jti and the identity it was issued to. */
    queueSessionRevoked(tx: Executor, sessions: { jti: string; identityId: string }[], why: EventReason, actor: Actor): Promise<number> {
      return queue(tx, 'session-revoked', sessions.map((s) => ({
        subId: {
          format: 'complex',
          session: { format: 'jwt_id', iss: deps.issuer, jti: s.jti },
          user: { format: 'iss_sub', iss: deps.issuer, sub: s.identityId },
        },
        claims: { initiating_entity: why.initiatingEntity, reason_admin: { en: why.reason } },
      })), actor);
    },
    /** `credential-change` for a dynamic credential created, revoked or deleted. */
    queueCredentialChange(tx: Executor, change: { identityId: string; credentialId: string; name: string; changeType: 'create' | 'revoke' | 'delete' }, why: EventReason, actor: Actor): Promise<number> {
      return queue(tx, 'credential-change', [{
        subId: { format: 'iss_sub', iss: deps.issuer, sub: change.identityId },
        claims: {
          credential_type: 'password', change_type: change.changeType, friendly_name: change.name,
          initiating_entity: why.initiatingEntity, reason_admin: { en: why.reason },
        },
      }], actor);
    },
    jobHandlers: {
      [DELIVER_SET_JOB]: async (job: Job) => {
        const { receiverId, set } = job.payload as { receiverId: string; set: string };
        const receiver = await deps.db.selectFrom('brokerReceivers').selectAll().where('id', '=', receiverId).executeTakeFirst();
        if (!receiver) throw new NotFoundError('ERR_BROKER_RECEIVER_NOT_FOUND', `CAEP receiver "${receiverId}" no longer exists`);
        const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json' };
        if (receiver.authorizationSealed) headers.authorization = await deps.sealer.open(receiver.authorizationSealed);
        let response: Response;
        try {
          response = await fetch(receiver.endpoint, { method: 'POST', headers, body: set, signal: AbortSignal.timeout(10_000), redirect: 'error' });
        } catch (error) {
          throw new UnavailableError('ERR_CAEP_UNREACHABLE', `receiver ${receiverId}: ${(error as Error).message}`, { cause: error });
        }
        const body = await response.text();
        if (response.status >= 200 && response.status < 300) return { status: response.status };
        if (response.status === 400) {
          // RFC 8935 §2.3: the receiver refused this SET for good; sending it again changes nothing.
          let err = 'invalid_request';
          try {
            err = String((JSON.parse(body) as { err?: string }).err ?? err);
          } catch { /* the receiver sent no JSON: keep the generic code */ }
          throw new InvalidInputError('ERR_CAEP_REJECTED', `receiver ${receiverId} refused the SET: ${err}`);
        }
        throw new UnavailableError('ERR_CAEP_DELIVERY_FAILED', `receiver ${receiverId} answered ${response.status}`);
      },
    },
  };
}

export type CaepTransmitter = ReturnType<typeof caepTransmitter>;

function toInfo(row: { id: string; endpoint: string; audience: string; events: string[]; authorizationSealed: string | null; createdAt: Date; updatedAt: Date }): ReceiverInfo {
  return {
    id: row.id, endpoint: row.endpoint, audience: row.audience, events: row.events as CaepEvent[],
    authorization: row.authorizationSealed !== null, createdAt: row.createdAt, updatedAt: row.updatedAt,
  };
}
