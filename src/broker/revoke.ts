import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Db, Executor, Tx } from '../store/db.js';
import type { CaepTransmitter, EventReason } from './caep.js';
import { appendRevocations, type RevocationEntry, type RevocationState, type RevocationSync } from './revocations.js';
import { toTask, type TaskInfo } from './tasks.js';

interface RevokedSession {
  id: string;
  jti: string;
  identityId: string;
  expiresAt: Date;
}

/**
 * Every way a broker token dies before its time: revoked by its jti (RFC 7009), all tokens of an
 * identity (containment's `revoke_sessions`), all tokens of a task, or an identity's broker
 * quarantine. Each revokes what was derived from it, appends to the revocation log, audits and
 * queues CAEP `session-revoked` SETs in one transaction, then applies the log in this process at
 * once (other processes read it within their sync interval).
 */
export function revoker(deps: {
  db: Db;
  state: Pick<RevocationState, 'apply'>;
  sync: Pick<RevocationSync, 'seen'>;
  caep: Pick<CaepTransmitter, 'queueSessionRevoked'>;
  onQueued?: () => void;
  now: () => number;
}) {
  async function commit<T>(work: (tx: Tx) => Promise<{ result: T; entries: { kind: RevocationEntry['kind']; ref: string; expiresAt: Date }[]; queued: number }>): Promise<T> {
    const { result, applied, queued } = await deps.db.transaction().execute(async (tx) => {
      const { result, entries, queued } = await work(tx);
      return { result, applied: await appendRevocations(tx, entries), queued };
    });
    deps.state.apply(applied);
    deps.sync.seen(applied);
    if (queued) deps.onQueued?.();
    return result;
  }

  /** Revokes the sessions and everything derived from them (the whole subtree, locked first). */
  async function cascade(tx: Tx, roots: string[]): Promise<RevokedSession[]> {
    if (roots.length === 0) return [];
    const tree = sql`with recursive tree(id) as (
        select id from sessions where id = any(${roots}::text[])
        union select s.id from sessions s join tree t on s.parent_session_id = t.id)`;
    await sql`${tree} select s.id from sessions s join tree t on t.id = s.id for update of s`.execute(tx);
    const { rows } = await sql<RevokedSession>`${tree}
      update sessions s set status = 'revoked', ended_at = now(), updated_at = now()
        from tree t where s.id = t.id and s.status = 'active' and s.source = 'broker'
      returning s.id, s.jti, s.identity_id, s.expires_at`.execute(tx);
    return rows;
  }

  async function finish(tx: Tx, revoked: RevokedSession[], why: EventReason, actor: Actor, action: string, subject: string, payload: Record<string, unknown>) {
    await appendAudit(tx, actor, { action, subject, payload: { ...payload, reason: why.reason, revoked: revoked.map((r) => r.jti) } });
    return deps.caep.queueSessionRevoked(tx, revoked.map((r) => ({ jti: r.jti, identityId: r.identityId })), why, actor);
  }

  const tokenEntries = (revoked: RevokedSession[]) => revoked.map((r) => ({ kind: 'token' as const, ref: r.jti, expiresAt: new Date(r.expiresAt) }));

  return {
    /** A token and everything derived from it. Returns the jtis revoked now (none if already dead). */
    revokeToken(jti: string, actor: Actor, why: EventReason): Promise<string[]> {
      return commit(async (tx) => {
        const session = await tx.selectFrom('sessions').select(['id']).where('jti', '=', jti).where('source', '=', 'broker').executeTakeFirst();
        if (!session) return { result: [], entries: [], queued: 0 };
        const revoked = await cascade(tx, [session.id]);
        if (revoked.length === 0) return { result: [], entries: [], queued: 0 };
        const queued = await finish(tx, revoked, why, actor, 'broker.token.revoked', `token:${jti}`, { jti });
        return { result: revoked.map((r) => r.jti), entries: tokenEntries(revoked), queued };
      });
    },

    /** Every live broker token held by the identity or issued on its behalf, and their derivations. */
    revokeSessions(identityId: string, actor: Actor, why: EventReason): Promise<string[]> {
      return commit(async (tx) => {
        const roots = await tx.selectFrom('sessions').select('id')
          .where('source', '=', 'broker').where('status', '=', 'active')
          .where((eb) => eb.or([eb('identityId', '=', identityId), eb(sql`attributes->>'sub'`, '=', identityId)]))
          .execute();
        const revoked = await cascade(tx, roots.map((r) => r.id));
        const queued = await finish(tx, revoked, why, actor, 'broker.sessions.revoked', `identity:${identityId}`, { identity: identityId });
        return { result: revoked.map((r) => r.jti), entries: tokenEntries(revoked), queued };
      });
    },

    /**
     * Tokens derived from the identity's tokens (exchanged or delegated onward by others), and
     * their own derivations; the identity's own tokens stay.
     */
    revokeDerived(identityId: string, actor: Actor, why: EventReason): Promise<string[]> {
      return commit(async (tx) => {
        const roots = await tx.selectFrom('sessions').select('id')
          .where('source', '=', 'broker').where('status', '=', 'active')
          .where('parentSessionId', 'in', ownSessions(tx, identityId))
          .execute();
        const revoked = await cascade(tx, roots.map((r) => r.id));
        const queued = await finish(tx, revoked, why, actor, 'broker.derived.revoked', `identity:${identityId}`, { identity: identityId });
        return { result: revoked.map((r) => r.jti), entries: tokenEntries(revoked), queued };
      });
    },

    /**
     * Delegated authority around the identity: tokens it holds as an actor for someone else (it
     * appears in `act`), and tokens others hold on its behalf (its `sub`, another holder).
     */
    revokeDelegations(identityId: string, actor: Actor, why: EventReason): Promise<string[]> {
      return commit(async (tx) => {
        const roots = await delegatedSessions(tx, identityId).select('id').execute();
        const revoked = await cascade(tx, roots.map((r) => r.id));
        const queued = await finish(tx, revoked, why, actor, 'broker.delegations.revoked', `identity:${identityId}`, { identity: identityId });
        return { result: revoked.map((r) => r.jti), entries: tokenEntries(revoked), queued };
      });
    },

    /** Ends the task (refusing one already over) and revokes every token bound to it. */
    endTask(taskId: string, actor: Actor, why: EventReason): Promise<{ task: TaskInfo; revoked: string[] }> {
      return commit(async (tx) => {
        const row = await tx.updateTable('brokerTasks')
          .set({ status: 'ended', endedAt: sql`now()` as never, endReason: why.reason })
          .where('id', '=', taskId).where('status', '=', 'active').returningAll().executeTakeFirst();
        if (!row) {
          const exists = await tx.selectFrom('brokerTasks').select('status').where('id', '=', taskId).executeTakeFirst();
          if (!exists) throw new NotFoundError('ERR_BROKER_TASK_NOT_FOUND', `task "${taskId}" does not exist`);
          throw new ConflictError('ERR_BROKER_TASK_OVER', `task "${taskId}" is already ${exists.status}`);
        }
        // A later statement than the task's update: it sees every token recorded before it.
        const roots = await tx.selectFrom('sessions').select('id').where('source', '=', 'broker').where('status', '=', 'active')
          .where(sql`attributes->>'task'`, '=', taskId).execute();
        const revoked = await cascade(tx, roots.map((r) => r.id));
        const queued = await finish(tx, revoked, why, actor, 'broker.task.ended', `task:${taskId}`, { identity: row.identityId });
        return {
          result: { task: toTask(row), revoked: revoked.map((r) => r.jti) },
          entries: [{ kind: 'task' as const, ref: taskId, expiresAt: row.expiresAt }, ...tokenEntries(revoked)],
          queued,
        };
      });
    },

    /**
     * Suspends the identity's broker tokens until `until` (reversible, self-expiring): they
     * introspect inactive and no new one is issued to or for it. Tokens are not revoked.
     */
    quarantine(identityId: string, until: Date, actor: Actor, why: EventReason): Promise<{ identityId: string; until: Date }> {
      return commit(async (tx) => {
        await appendAudit(tx, actor, { action: 'broker.identity.quarantined', subject: `identity:${identityId}`, payload: { until: until.toISOString(), reason: why.reason } });
        return { result: { identityId, until }, entries: [{ kind: 'quarantine' as const, ref: identityId, expiresAt: until }], queued: 0 };
      });
    },

    /** Lifts a broker quarantine early; tokens still within their lifetime are active again. */
    release(identityId: string, actor: Actor, why: EventReason): Promise<{ identityId: string }> {
      return commit(async (tx) => {
        const latest = await tx.selectFrom('brokerRevocations').select(sql<Date | null>`max(expires_at)`.as('until'))
          .where('kind', '=', 'quarantine').where('ref', '=', identityId).executeTakeFirst();
        await appendAudit(tx, actor, { action: 'broker.identity.released', subject: `identity:${identityId}`, payload: { reason: why.reason } });
        const until = latest?.until ? new Date(latest.until) : new Date(deps.now());
        return { result: { identityId }, entries: [{ kind: 'release' as const, ref: identityId, expiresAt: new Date(Math.max(until.getTime(), deps.now() + 1000)) }], queued: 0 };
      });
    },
  };
}

export type Revoker = ReturnType<typeof revoker>;

/** Ids of the identity's live broker tokens, held by it or issued on its behalf. */
export function ownSessions(db: Executor, identityId: string) {
  return db.selectFrom('sessions').select('id')
    .where('source', '=', 'broker').where('status', '=', 'active')
    .where((eb) => eb.or([eb('identityId', '=', identityId), eb(sql`attributes->>'sub'`, '=', identityId)]));
}

/** Live broker tokens carrying delegated authority around the identity (see `revokeDelegations`). */
export function delegatedSessions(db: Executor, identityId: string) {
  return db.selectFrom('sessions')
    .where('source', '=', 'broker').where('status', '=', 'active')
    .where((eb) => eb.or([
      sql<boolean>`attributes->'act' ? ${identityId}`,
      eb.and([eb(sql`attributes->>'sub'`, '=', identityId), eb('identityId', '<>', identityId)]),
    ]));
}
