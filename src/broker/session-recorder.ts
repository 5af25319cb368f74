import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../domain/roles.js';
import type { Db } from '../store/db.js';

/** An issued token as the identity graph records it: a session of its holder. */
export interface IssuedSession {
  jti: string;
  /** The identity holding the token (its current actor, or its subject). */
  identityId: string;
  /** The session of the token it was exchanged from (derived_from), if any. */
  parentSessionId: string | null;
  taskId: string | null;
  issuedAt: Date;
  expiresAt: Date;
  attributes: {
    sub: string;
    audience: string[];
    scopes: string[];
    /** Actors, the current one first. */
    act: string[];
    task: string | null;
    clientId: string;
    subjectIssuer: string;
  };
  actor: Actor;
}

/** At most this many rows per insert; more waiting start the next batch at once. */
const MAX_BATCH = 1000;

/**
 * Records issued tokens as `sessions` rows with group commit: tokens asked for while a batch is
 * being written go into the next one, each batch is one transaction (rows and one audit record
 * per client), and each caller hears back once its row is durable. A token whose parent was
 * revoked, or whose task ended, before its batch committed is recorded revoked and the caller told
 * so: the parent and task rows are read `FOR SHARE`, so a revocation running at the same time
 * either commits first (and is seen here) or waits for this batch (and then sees its rows).
 */
export function sessionRecorder(deps: { db: Db; concurrency?: number }) {
  type Pending = { session: IssuedSession; done: (outcome: 'recorded' | 'revoked') => void; fail: (error: unknown) => void };
  let queue: Pending[] = [];
  /** Batches being written; a new one starts while others commit (their audit appends still take turns). */
  const writing = new Set<Promise<void>>();
  const concurrency = deps.concurrency ?? 3;
  let scheduled = false;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  }

  function flush(): void {
    while (queue.length > 0 && writing.size < concurrency) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      const written: Promise<void> = write(batch.map((b) => b.session)).then(
        (outcomes) => batch.forEach((b, i) => b.done(outcomes[i]!)),
        (error) => batch.forEach((b) => b.fail(error)),
      ).finally(() => {
        writing.delete(written);
        if (queue.length) schedule();
      });
      writing.add(written);
    }
  }

  async function write(sessions: IssuedSession[]): Promise<('recorded' | 'revoked')[]> {
    return deps.db.transaction().execute(async (tx) => {
      const parents = [...new Set(sessions.map((s) => s.parentSessionId).filter((p): p is string => p !== null))];
      const tasks = [...new Set(sessions.map((s) => s.taskId).filter((t): t is string => t !== null))];
      const liveParents = new Set(parents.length === 0 ? [] : (await sql<{ id: string }>`
        select id from sessions where id = any(${parents}::text[]) and status = 'active' for share`.execute(tx)).rows.map((r) => r.id));
      const liveTasks = new Set(tasks.length === 0 ? [] : (await sql<{ id: string }>`
        select id from broker_tasks where id = any(${tasks}::text[]) and status = 'active' for share`.execute(tx)).rows.map((r) => r.id));
      const outcomes = sessions.map((s) =>
        (s.parentSessionId && !liveParents.has(s.parentSessionId)) || (s.taskId && !liveTasks.has(s.taskId)) ? 'revoked' as const : 'recorded' as const);
      // One array per column: a batch is a dozen parameters, not thousands.
      const live = (i: number) => outcomes[i] === 'recorded';
      await sql`
        insert into sessions (id, jti, identity_id, parent_session_id, source, status, issued_at, expires_at, ended_at, attributes)
        select id, id, identity_id, parent_session_id, 'broker', status, issued_at, expires_at, ended_at, attributes::jsonb
          from unnest(${sessions.map((s) => s.jti)}::text[], ${sessions.map((s) => s.identityId)}::text[],
                      ${sessions.map((s) => s.parentSessionId)}::text[], ${sessions.map((_, i) => (live(i) ? 'active' : 'revoked'))}::text[],
                      ${sessions.map((s) => s.issuedAt.toISOString())}::timestamptz[], ${sessions.map((s) => s.expiresAt.toISOString())}::timestamptz[],
                      ${sessions.map((s, i) => (live(i) ? null : s.issuedAt.toISOString()))}::timestamptz[],
                      ${sessions.map((s) => JSON.stringify(s.attributes))}::text[])
            as t(id, identity_id, parent_session_id, status, issued_at, expires_at, ended_at, attributes)`.execute(tx);
      // One audit record per client and batch: the jtis by identity (the rows hold the rest).
      const byActor = new Map<string, { actor: Actor; byIdentity: Record<string, string[]>; refused: string[] }>();
      sessions.forEach((s, i) => {
        const group = byActor.get(s.actor.id) ?? { actor: s.actor, byIdentity: {}, refused: [] };
        if (live(i)) (group.byIdentity[s.identityId] ??= []).push(s.jti);
        else group.refused.push(s.jti);
        byActor.set(s.actor.id, group);
      });
      for (const { actor, byIdentity, refused } of byActor.values()) {
        await appendAudit(tx, actor, {
          action: 'broker.tokens.issued', subject: 'broker',
          payload: { count: Object.values(byIdentity).reduce((n, jtis) => n + jtis.length, 0), byIdentity, refused },
        });
      }
      return outcomes;
    });
  }

  return {
    /** Resolves once the session is committed: `revoked` if its parent or task died first. */
    record(session: IssuedSession): Promise<'recorded' | 'revoked'> {
      return new Promise((done, fail) => {
        queue.push({ session, done, fail });
        schedule();
      });
    },
    /** Waits for everything queued so far to be written. */
    async drain(): Promise<void> {
      while (writing.size || queue.length) {
        flush();
        await Promise.all(writing);
      }
    },
  };
}

export type SessionRecorder = ReturnType<typeof sessionRecorder>;
