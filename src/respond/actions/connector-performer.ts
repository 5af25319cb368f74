import type { ConnectorAction, ConnectorSession, ConnectorType } from '../../connectors/contract.js';
import { CONNECTOR_ACTIONS } from '../../connectors/contract.js';
import { connectorType, isConnectorType } from '../../connectors/registry.js';
import { resolveSecretParams } from '../../connectors/secret-params.js';
import type { ActionName } from '../../domain/action-run.js';
import { ConflictError, NotFoundError, UnavailableError } from '../../domain/errors.js';
import { validator } from '../../domain/validation.js';
import type { Sealer } from '../../secrets/sealed.js';
import type { Db } from '../../store/db.js';
import type { Performer, RunTarget } from './performer.js';

/** How long an unused connection to a target system is kept open. */
const IDLE_MS = 30_000;

interface Pooled {
  session: Promise<ConnectorSession>;
  lastUsed: number;
}

export function isConnectorAction(action: ActionName): action is ConnectorAction {
  return (CONNECTOR_ACTIONS as readonly string[]).includes(action);
}

/**
 * Connector sessions, one per connector, opened on first use and kept while in use, so a playbook's
 * steps on one system share one admin connection. A session whose system stopped answering is
 * dropped: the retry opens a new one.
 */
export function connectorSessions(deps: { db: Db; sealer: Pick<Sealer, 'open'> }) {
  const pool = new Map<string, Pooled>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [id, pooled] of pool) if (now - pooled.lastUsed > IDLE_MS) void drop(id);
  }, IDLE_MS);
  timer.unref();

  async function open(connectorId: string): Promise<ConnectorSession> {
    const row = await deps.db.selectFrom('connectors').selectAll().where('id', '=', connectorId).executeTakeFirst();
    if (!row) throw new NotFoundError('ERR_CONNECTOR_NOT_FOUND', `connector "${connectorId}" does not exist`);
    const type = connectorType(row.type);
    const params = validator(type.params).parse(await resolveSecretParams(type.params, row.params, deps.sealer), 'ERR_CONNECTOR_PARAMS', `connector "${connectorId}" params`);
    return type.connect(params);
  }

  async function drop(connectorId: string): Promise<void> {
    const pooled = pool.get(connectorId);
    if (!pooled) return;
    pool.delete(connectorId);
    await (await pooled.session.catch(() => undefined))?.close().catch(() => undefined);
  }

  return {
    async session(connectorId: string): Promise<ConnectorSession> {
      let pooled = pool.get(connectorId);
      if (!pooled) {
        pooled = { session: open(connectorId), lastUsed: Date.now() };
        pool.set(connectorId, pooled);
        pooled.session.catch(() => pool.delete(connectorId));
      }
      pooled.lastUsed = Date.now();
      return pooled.session;
    },
    drop,
    async close(): Promise<void> {
      clearInterval(timer);
      await Promise.all([...pool.keys()].map(drop));
    },
  };
}

export type ConnectorSessions = ReturnType<typeof connectorSessions>;

/** The connector type of a connector row, when Cordon knows it. */
export async function connectorTypeOf(db: Db, connectorId: string): Promise<ConnectorType | undefined> {
  const row = await db.selectFrom('connectors').select('type').where('id', '=', connectorId).executeTakeFirst();
  return row && isConnectorType(row.type) ? connectorType(row.type) : undefined;
}

/**
 * A connector acting on its own system. Connector errors pass through as they are
 * (`UnavailableError` is retried); an unreachable system's session is dropped first.
 */
export function connectorPerformer(connectorId: string, sessions: ConnectorSessions): Performer {
  return {
    id: `connector:${connectorId}`,
    async bind(action: ActionName, run: RunTarget) {
      if (!isConnectorAction(action) || !run.target) return undefined;
      const target = run.target;
      const handler = async () => {
        const found = (await sessions.session(connectorId)).actions?.[action];
        if (!found) throw new NotFoundError('ERR_CONNECTOR_ACTION', `connector "${connectorId}" cannot ${action}`);
        return found;
      };
      const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
        try {
          return await work();
        } catch (error) {
          if (error instanceof UnavailableError) await sessions.drop(connectorId);
          throw error;
        }
      };
      return {
        plan: () => guarded(async () => (await handler()).plan(target)),
        execute: (context) => guarded(async () => (await handler()).execute(target, { idempotencyKey: context.idempotencyKey, newSecret: context.newSecret })),
        verify: (context) => guarded(async () => (await handler()).verify(target, { newSecret: context.newSecret, currentSecret: context.currentSecret })),
        rollback: () => guarded(async () => {
          const found = await handler();
          if (!found.rollback) throw new ConflictError('ERR_ACTION_IRREVERSIBLE', `${action} on connector "${connectorId}" cannot be rolled back`);
          return found.rollback(target);
        }),
      };
    },
  };
}
