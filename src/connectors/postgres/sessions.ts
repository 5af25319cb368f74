import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { roleState, type PostgresDeps } from './roles.js';

interface Backend {
  pid: number;
  datname: string | null;
  client_addr: string | null;
  application_name: string;
  backend_start: Date;
}

/** The role's server processes, on every database of the server, except Cordon's own. */
async function backendsOf(deps: PostgresDeps, role: string): Promise<Backend[]> {
  const client = await deps.admin();
  const { rows } = await client.query<Backend>(
    `select pid, datname, client_addr::text, application_name, backend_start
       from pg_stat_activity where usename = $1 and pid <> pg_backend_pid() order by pid`, [role]);
  return rows;
}

/**
 * revoke_sessions: `pg_terminate_backend` on each of the role's sessions, waiting for each
 * process to exit, so the proof that follows reads a settled `pg_stat_activity`.
 */
export function terminateSessions(deps: PostgresDeps): ActionHandler {
  const waitMs = deps.params.connectTimeoutMs ?? 5000;
  return {
    async plan(target) {
      const role = await roleState(deps, target.identity.externalRef);
      const backends = await backendsOf(deps, role.name);
      return {
        changes: backends.map((b) => ({
          op: 'terminate_session',
          object: `session pid ${b.pid}`,
          detail: `role ${role.name} on ${b.datname ?? '-'} from ${b.client_addr ?? 'local socket'} (${b.application_name || 'no application name'}) since ${b.backend_start.toISOString()}`,
        })),
        reversible: false,
      };
    },
    async execute(target) {
      const role = await roleState(deps, target.identity.externalRef);
      const client = await deps.admin();
      const { rows } = await client.query<{ pid: number; terminated: boolean }>(
        `select pid, pg_terminate_backend(pid, $2) as terminated
           from pg_stat_activity where usename = $1 and pid <> pg_backend_pid() order by pid`, [role.name, waitMs]);
      return { output: { role: role.name, terminated: rows.filter((r) => r.terminated).map((r) => r.pid), notTerminated: rows.filter((r) => !r.terminated).map((r) => r.pid) } };
    },
    async verify(target) {
      const role = target.identity.externalRef;
      const left = await backendsOf(deps, role);
      return verification([
        check('sessions_gone', left.length === 0, left.length === 0
          ? `pg_stat_activity shows no session of role ${role}`
          : `pg_stat_activity still shows ${left.length} session(s) of role ${role}: pid ${left.map((b) => b.pid).join(', ')}`),
      ]);
    },
  };
}
