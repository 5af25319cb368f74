import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/service.js';
import { InvalidInputError, NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Db } from '../store/db.js';
import type { BrokerSettings } from './settings.js';

export interface TaskInfo {
  id: string;
  identityId: string;
  purpose: string;
  status: 'active' | 'ended' | 'expired';
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: string | null;
}

/**
 * Tasks: a unit of work an identity does with short-lived credentials. Tokens and dynamic
 * database credentials are bound to a task and die with it; a task lives 5 minutes unless asked
 * otherwise, never longer than the cap.
 */
export function taskStore(deps: { db: Db; settings: Pick<BrokerSettings, 'taskTtlSeconds' | 'maxTaskTtlSeconds'>; now: () => number }) {
  /** Tasks never change identity or expiry: the exchange reads them from here after the first time. */
  const known = new Map<string, TaskInfo>();

  async function start(input: { identityId: string; purpose: string; ttlSeconds?: number }, actor: Actor): Promise<TaskInfo> {
    const ttl = input.ttlSeconds ?? deps.settings.taskTtlSeconds;
    if (ttl > deps.settings.maxTaskTtlSeconds) {
      throw new InvalidInputError('ERR_BROKER_TASK_TTL', `a task lives at most ${deps.settings.maxTaskTtlSeconds} seconds`, [{ path: '/ttlSeconds', message: `must be ≤ ${deps.settings.maxTaskTtlSeconds}` }]);
    }
    const id = randomUUID();
    const createdAt = new Date(deps.now());
    const expiresAt = new Date(createdAt.getTime() + ttl * 1000);
    return deps.db.transaction().execute(async (tx) => {
      const row = await tx.insertInto('brokerTasks').values({
        id, identityId: input.identityId, purpose: input.purpose, status: 'active', createdBy: actor.id, createdAt, expiresAt,
      }).returningAll().executeTakeFirstOrThrow();
      await appendAudit(tx, actor, { action: 'broker.task.started', subject: `task:${id}`, payload: { identity: input.identityId, purpose: input.purpose, expiresAt: expiresAt.toISOString() } });
      return toTask(row);
    });
  }

  async function get(id: string): Promise<TaskInfo> {
    const row = await deps.db.selectFrom('brokerTasks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('ERR_BROKER_TASK_NOT_FOUND', `task "${id}" does not exist`);
    return toTask(row);
  }

  return {
    start,
    get,
    /** Identity and expiry of a task, cached; whether it ended is the revocation state's business. */
    async lookup(id: string): Promise<TaskInfo | undefined> {
      const cached = known.get(id);
      if (cached) return cached;
      const row = await deps.db.selectFrom('brokerTasks').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const task = toTask(row);
      if (known.size > 10_000) known.clear();
      known.set(id, task);
      return task;
    },
  };
}

export type TaskStore = ReturnType<typeof taskStore>;

export function toTask(row: { id: string; identityId: string; purpose: string; status: string; createdBy: string; createdAt: Date; expiresAt: Date; endedAt: Date | null; endReason: string | null }): TaskInfo {
  return { ...row, status: row.status as TaskInfo['status'] };
}
