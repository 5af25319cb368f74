import { decodeJwt } from 'jose';
import type { Authorizer } from '../domain/authorization.js';
import { ForbiddenError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db, StoreKind } from '../store/db.js';
import type { Job } from '../store/jobs.js';
import { accessTokenChecker, introspectionOf } from './access-tokens.js';
import { caepTransmitter, type EventReason } from './caep.js';
import { ACCESS_TOKEN_TYP, GRANT_TOKEN_EXCHANGE, SIGNING_ALG, SUBJECT_TOKEN_TYPES } from './claims.js';
import { dbCredentialService } from './db-credentials.js';
import { tokenExchanger, type ExchangeClient, type ExchangeRequest } from './exchange.js';
import { identityStatusGuard } from './guard.js';
import { identityLoader } from './identities.js';
import { issuerRegistry } from './issuers/registry.js';
import { workloadTokenVerifier } from './issuers/verify.js';
import { signingKeys } from './keys.js';
import { delegatedSessions, ownSessions, revoker } from './revoke.js';
import { revocationState, revocationSync } from './revocations.js';
import { ensureScheduled } from './schedule.js';
import { sessionRecorder } from './session-recorder.js';
import type { BrokerSettings } from './settings.js';
import { sweepBroker } from './sweep.js';
import { taskStore, type TaskInfo } from './tasks.js';

export const BROKER_ACTOR: Actor = { id: 'system:broker', subject: 'broker' };
export const SWEEP_JOB = 'broker.sweep';
export const ROTATE_KEYS_JOB = 'broker.keys.rotate';
const SWEEP_EVERY_MS = 60_000;
const ROTATION_CHECK_EVERY_MS = 15 * 60_000;

/** A token presented to prove who calls a task route (the workload's own, or one of the task's). */
export interface TaskProof {
  token: string;
  tokenType: string;
}

export interface BrokerDeps {
  db: Db;
  storeKind: StoreKind;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  fingerprint: Fingerprinter;
  settings: BrokerSettings;
  /** The built-in guard every exchange passes (identity status); see `identityStatusGuard`. */
  guard?: Authorizer;
  /** The policy engine, when one is configured (the Cedar decision point implements it). */
  policy?: Authorizer;
  onQueued?: () => void;
  onError?: (error: unknown) => void;
  now?: () => number;
}

/**
 * The just-in-time credential broker of one process, wired from its parts. It starts lazily (keys
 * loaded, the revocation log replayed and followed) on first use, so CLI commands that never
 * touch it pay nothing.
 */
export function brokerService(deps: BrokerDeps) {
  const now = deps.now ?? Date.now;
  const { db, settings } = deps;
  const identities = identityLoader({ db });
  const keys = signingKeys({ db, sealer: deps.sealer, settings, now });
  const state = revocationState(now);
  const sync = revocationSync({ db, state, now, intervalMs: settings.revocationSyncMs, onError: deps.onError });
  const issuers = issuerRegistry({ db, now });
  const workloadTokens = workloadTokenVerifier({ issuers, identities, settings, now });
  const accessTokens = accessTokenChecker({ keys, revocations: state, settings, now });
  const tasks = taskStore({ db, settings, now });
  const recorder = sessionRecorder({ db });
  const caep = caepTransmitter({ db, keys, sealer: deps.sealer, issuer: settings.issuer, now });
  const revoke = revoker({ db, state, sync, caep, onQueued: deps.onQueued, now });
  const dbCredentials = dbCredentialService({ db, sealer: deps.sealer, fingerprint: deps.fingerprint, caep, onQueued: deps.onQueued, now });
  const guard = deps.guard ?? identityStatusGuard({ identities });
  const exchanger = tokenExchanger({
    settings, keys, accessTokens, workloadTokens, tasks, revocations: state, recorder, guard, policy: deps.policy, now,
  });

  let starting: Promise<void> | undefined;
  function ready(): Promise<void> {
    return (starting ??= (async () => {
      await keys.ready(BROKER_ACTOR);
      // The embedded store belongs to one process: everything revoked is revoked here.
      await sync.start(deps.storeKind === 'postgres');
    })().catch((error) => {
      starting = undefined;
      throw error;
    }));
  }

  /**
   * The task, if the proof is a token its identity holds. A token merely bound to the task is not
   * enough: a delegate holds one too, and must not get the task's database roles.
   */
  async function provenTask(taskId: string, proof: TaskProof | undefined): Promise<TaskInfo> {
    const task = await tasks.get(taskId);
    if (!proof) return task;
    await ready();
    const presented = await exchanger.present(proof.token, proof.tokenType, 'subject_token');
    if (presented.identityId !== task.identityId) {
      throw new ForbiddenError('ERR_BROKER_TASK_NOT_YOURS', `the token presented speaks for ${presented.identityId}, not for task ${taskId}`);
    }
    return task;
  }

  async function rotateIfDue(job: Job) {
    try {
      return { ...(await keys.rotate(BROKER_ACTOR)) };
    } finally {
      await ensureScheduled(db, ROTATE_KEYS_JOB, new Date(now() + ROTATION_CHECK_EVERY_MS), { except: job.id, createdBy: BROKER_ACTOR.id });
    }
  }

  async function sweep(job: Job) {
    try {
      const result = await sweepBroker(db, BROKER_ACTOR);
      // A drop job that ran out of retries leaves an expired role behind: try again here.
      const stale = await db.selectFrom('brokerDbCredentials').select('id').where('status', '=', 'active')
        .where('validUntil', '<=', new Date(now())).limit(20).execute();
      let dropped = 0;
      for (const { id } of stale) {
        if (await dbCredentials.drop(id, BROKER_ACTOR, { initiatingEntity: 'system', reason: 'expired' }, 'delete').catch(() => false)) dropped++;
      }
      return { ...result, droppedCredentials: dropped };
    } finally {
      await ensureScheduled(db, SWEEP_JOB, new Date(now() + SWEEP_EVERY_MS), { except: job.id, createdBy: BROKER_ACTOR.id });
    }
  }

  return {
    settings,
    ready,
    async exchange(request: ExchangeRequest, client: ExchangeClient) {
      await ready();
      return exchanger.exchange(request, client);
    },
    /** RFC 7662: the token's claims when active, `{ active: false }` for anything else. */
    async introspect(token: string): Promise<Record<string, unknown>> {
      await ready();
      const check = await accessTokens.check(token);
      return check.active ? introspectionOf(check.claims) : { active: false };
    },
    /**
     * RFC 7009: revokes a Cordon token Cordon signed, and everything derived from it. Anything else
     * (not Cordon's, already expired or revoked) is a no-op, as the RFC asks.
     */
    async revokeToken(token: string, actor: Actor): Promise<string[]> {
      await ready();
      let iss: unknown;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        return [];
      }
      if (iss !== settings.issuer) return [];
      const claims = await accessTokens.authentic(token);
      if (typeof claims === 'string') return [];
      return revoke.revokeToken(claims.jti, actor, { initiatingEntity: 'user', reason: 'revoked by the client (RFC 7009)' });
    },
    async startTask(input: { proof: TaskProof; purpose: string; ttlSeconds?: number }, actor: Actor): Promise<TaskInfo> {
      await ready();
      const presented = await exchanger.present(input.proof.token, input.proof.tokenType, 'subject_token');
      const identity = presented.identityId;
      if (state.quarantinedUntil(identity) !== undefined) throw new ForbiddenError('ERR_BROKER_IDENTITY_QUARANTINED', `identity ${identity} is quarantined`);
      const verdict = await guard.authorize({ principal: { type: 'Identity', id: identity }, action: { type: 'Action', id: 'task.start' }, resource: { type: 'Task', id: input.purpose } });
      if (verdict.decision !== 'allow') throw new ForbiddenError('ERR_BROKER_IDENTITY_NOT_ACTIVE', `identity ${identity} may not start tasks (${verdict.reasons.join(', ')})`);
      return tasks.start({ identityId: identity, purpose: input.purpose, ttlSeconds: input.ttlSeconds }, actor);
    },
    getTask: (taskId: string) => tasks.get(taskId),
    /** Ends the task: its tokens revoked, its database roles dropped. */
    async endTask(taskId: string, proof: TaskProof | undefined, actor: Actor, reason = 'task ended') {
      await provenTask(taskId, proof);
      await ready();
      const why: EventReason = { initiatingEntity: proof ? 'user' : 'admin', reason };
      const { task, revoked } = await revoke.endTask(taskId, actor, why);
      const roles = await dbCredentials.dropForTask(taskId, actor, why);
      return { task, revokedTokens: revoked, droppedRoles: roles.dropped, pendingRoles: roles.pending };
    },
    async issueDbCredential(taskId: string, proof: TaskProof, input: { connector: string; roles?: string[] }, actor: Actor) {
      const task = await provenTask(taskId, proof);
      if (state.taskEnded(taskId)) throw new ForbiddenError('ERR_BROKER_TASK_OVER', `task "${taskId}" has ended`);
      return dbCredentials.issue(task, input, actor);
    },
    /** Containment (`revoke_sessions`): every broker token of the identity, and what derives from them. */
    async revokeSessions(identityId: string, actor: Actor, reason: string) {
      await ready();
      return revoke.revokeSessions(identityId, actor, { initiatingEntity: 'policy', reason });
    },
    /** Containment (`revoke_sessions` on `derived_sessions`): what others derived from the identity's tokens. */
    async revokeDerived(identityId: string, actor: Actor, reason: string) {
      await ready();
      return revoke.revokeDerived(identityId, actor, { initiatingEntity: 'policy', reason });
    },
    /** Containment (`revoke_delegations`): tokens it holds for others, and others hold for it. */
    async revokeDelegations(identityId: string, actor: Actor, reason: string) {
      await ready();
      return revoke.revokeDelegations(identityId, actor, { initiatingEntity: 'policy', reason });
    },
    /** Containment (`quarantine`): reversible and self-expiring. */
    async quarantine(identityId: string, until: Date, actor: Actor, reason: string) {
      await ready();
      return revoke.quarantine(identityId, until, actor, { initiatingEntity: 'policy', reason });
    },
    async release(identityId: string, actor: Actor, reason: string) {
      await ready();
      return revoke.release(identityId, actor, { initiatingEntity: 'admin', reason });
    },
    /** Proof for a containment step: how many of the identity's broker tokens would still introspect active. */
    activeTokenCount: (identityId: string) => db.selectFrom('sessions').select(db.fn.countAll<string>().as('n'))
      .where('source', '=', 'broker').where('status', '=', 'active').where('identityId', '=', identityId)
      .where('expiresAt', '>', new Date(now())).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    /** Proof for `revoke_sessions` on `derived_sessions`: tokens derived from the identity's that are still live. */
    activeDerivedCount: (identityId: string) => db.selectFrom('sessions').select(db.fn.countAll<string>().as('n'))
      .where('source', '=', 'broker').where('status', '=', 'active').where('expiresAt', '>', new Date(now()))
      .where('parentSessionId', 'in', ownSessions(db, identityId)).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    /** Proof for `revoke_delegations`. */
    activeDelegationCount: (identityId: string) => delegatedSessions(db, identityId).select(db.fn.countAll<string>().as('n'))
      .where('expiresAt', '>', new Date(now())).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    isQuarantined: (identityId: string) => state.quarantinedUntil(identityId) !== undefined,
    async jwks() {
      await ready();
      return keys.jwks();
    },
    /** OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3, RFC 8414) for what the broker serves. */
    discovery() {
      return {
        issuer: settings.issuer,
        jwks_uri: `${settings.issuer}/.well-known/jwks.json`,
        token_endpoint: `${settings.issuer}/oauth2/token`,
        introspection_endpoint: `${settings.issuer}/oauth2/introspect`,
        revocation_endpoint: `${settings.issuer}/oauth2/revoke`,
        grant_types_supported: [GRANT_TOKEN_EXCHANGE],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [SIGNING_ALG],
        token_endpoint_auth_methods_supported: ['bearer_api_token'],
        introspection_endpoint_auth_methods_supported: ['bearer_api_token'],
        revocation_endpoint_auth_methods_supported: ['bearer_api_token'],
        access_token_types_supported: [ACCESS_TOKEN_TYP],
        subject_token_types_supported: [...SUBJECT_TOKEN_TYPES],
        scopes_supported: [],
      };
    },
    keys: {
      list: async () => {
        await ready();
        return keys.list();
      },
      rotate: async (actor: Actor) => {
        await ready();
        return keys.rotate(actor, { force: true });
      },
    },
    issuers: { save: issuers.save, remove: issuers.remove, list: issuers.list },
    receivers: { save: caep.saveReceiver, remove: caep.removeReceiver, list: caep.listReceivers },
    jobHandlers: {
      ...caep.jobHandlers,
      ...dbCredentials.jobHandlers,
      [SWEEP_JOB]: sweep,
      [ROTATE_KEYS_JOB]: rotateIfDue,
    },
    /** Schedules the periodic sweep and key-rotation check (any number of workers may call it). */
    async schedule(): Promise<void> {
      await ensureScheduled(db, SWEEP_JOB, new Date(now() + SWEEP_EVERY_MS), { createdBy: BROKER_ACTOR.id });
      await ensureScheduled(db, ROTATE_KEYS_JOB, new Date(now() + ROTATION_CHECK_EVERY_MS), { createdBy: BROKER_ACTOR.id });
    },
    /** For tests and the revocation-sync bench: read other processes' revocations now. */
    syncRevocations: () => sync.sync(),
    revocationEvents: sync.events,
    async close(): Promise<void> {
      await sync.stop();
      await recorder.drain();
    },
  };
}

export type BrokerService = ReturnType<typeof brokerService>;
