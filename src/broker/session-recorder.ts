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
export function sessionRecorder(deps: { db: Db }) {
  let queue: { session: IssuedSession; done: (outcome: 'recorded' | 'revoked') => void; fail: (error: unknown) => void }[] = [];
  let flushing: Promise<void> | undefined;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || flushing) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  async function flush(): Promise<void> {
    if (flushing || queue.length === 0) return;
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    flushing = write(batch.map((b) => b.session)).then(
      (outcomes) => batch.forEach((b, i) => b.done(outcomes[i]!)),
      (error) => batch.forEach((b) => b.fail(error)),
    ).finally(() => {
      flushing = undefined;
      if (queue.length) void flush();
    });
    await flushing;
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
      await tx.insertInto('sessions').values(sessions.map((s, i) => ({
        id: s.jti, identityId: s.identityId, parentSessionId: s.parentSessionId, jti: s.jti, source: 'broker',
        status: outcomes[i] === 'recorded' ? 'active' : 'revoked', issuedAt: s.issuedAt, expiresAt: s.expiresAt,
        endedAt: outcomes[i] === 'recorded' ? null : s.issuedAt, attributes: JSON.stringify(s.attributes),
      }))).execute();
      const byActor = new Map<string, { actor: Actor; tokens: (IssuedSession & { outcome: string })[] }>();
      sessions.forEach((s, i) => {
        const group = byActor.get(s.actor.id) ?? { actor: s.actor, tokens: [] };
        group.tokens.push({ ...s, outcome: outcomes[i] === 'recorded' ? 'active' : 'revoked' });
        byActor.set(s.actor.id, group);
      });
      for (const { actor, tokens } of byActor.values()) {
        await appendAudit(tx, actor, {
          action: 'broker.tokens.issued', subject: 'broker',
          payload: {
            count: tokens.length,
            tokens: tokens.map((t) => ({ jti: t.jti, identity: t.identityId, sub: t.attributes.sub, task: t.taskId, parent: t.parentSessionId, expiresAt: t.expiresAt.toISOString(), status: t.outcome })),
          },
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
        if (queue.length >= MAX_BATCH && !flushing) void flush();
        else schedule();
      });
    },
    /** Waits for everything queued so far to be written. */
    async drain(): Promise<void> {
      while (flushing || queue.length) {
        if (flushing) await flushing;
        else await flush();
      }
    },
  };
}

export type SessionRecorder = ReturnType<typeof sessionRecorder>;
