import { setTimeout as delay } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { accountName, accountOfConnection, accountState, type Account, type MariadbDeps } from './accounts.js';

interface Connection {
  ID: number;
  USER: string;
  HOST: string;
  DB: string | null;
  COMMAND: string;
}

/** The account's connections: PROCESSLIST names only the user, so the host decides among accounts that share it. */
async function connectionsOf(deps: MariadbDeps, account: Account): Promise<Connection[]> {
  const admin = await deps.admin();
  const [accounts] = await admin.query<mysql.RowDataPacket[]>(
    `select user, host from mysql.global_priv where user = ? and coalesce(json_value(priv, '$.is_role'), 'false') <> 'true'`, [account.user]);
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'select ID, USER, HOST, DB, COMMAND from information_schema.PROCESSLIST where USER = ? and ID <> connection_id() order by ID', [account.user]);
  const all = accounts.map((a) => ({ user: a.user as string, host: a.host as string }));
  return (rows as Connection[]).filter((c) => {
    const owner = accountOfConnection(c.USER, c.HOST, all);
    return owner?.host === account.host;
  });
}

/**
 * revoke_sessions: `KILL CONNECTION` for each of the account's connections, then waits (bounded)
 * until PROCESSLIST no longer shows them, so the proof reads a settled list.
 */
export function killConnections(deps: MariadbDeps): ActionHandler {
  const waitMs = deps.params.connectTimeoutMs ?? 5000;
  return {
    async plan(target) {
      const account = await accountState(deps, target.identity.externalRef);
      return {
        changes: (await connectionsOf(deps, account)).map((c) => ({
          op: 'kill_connection', object: `connection ${c.ID}`, detail: `${accountName(account)} from ${c.HOST} on ${c.DB ?? '-'} (${c.COMMAND})`,
        })),
        reversible: false,
      };
    },
    async execute(target) {
      const account = await accountState(deps, target.identity.externalRef);
      const admin = await deps.admin();
      const killed: number[] = [];
      for (const c of await connectionsOf(deps, account)) {
        try {
          await admin.query('kill connection ?', [c.ID]);
          killed.push(c.ID);
        } catch (error) {
          // ER_NO_SUCH_THREAD: it ended by itself in the meantime, which is the goal.
          if ((error as { errno?: number }).errno !== 1094) throw error;
        }
      }
      const deadline = Date.now() + waitMs;
      let left = await connectionsOf(deps, account);
      while (left.some((c) => killed.includes(c.ID)) && Date.now() < deadline) {
        await delay(20);
        left = await connectionsOf(deps, account);
      }
      return { output: { account: accountName(account), killed } };
    },
    async verify(target) {
      const account = await accountState(deps, target.identity.externalRef);
      const left = await connectionsOf(deps, account);
      return verification([
        check('sessions_gone', left.length === 0, left.length === 0
          ? `PROCESSLIST shows no connection of ${accountName(account)}`
          : `PROCESSLIST still shows ${left.length} connection(s) of ${accountName(account)}: ${left.map((c) => c.ID).join(', ')}`),
      ]);
    },
  };
}
