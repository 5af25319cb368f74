import type pg from 'pg';
import { targetNotFound } from '../failures.js';
import { postgresServer } from './client.js';
import type { PostgresParams } from './params.js';

/** What an action handler needs of the connector: its admin connection and its parameters. */
export interface PostgresDeps {
  admin(): Promise<pg.Client>;
  params: PostgresParams;
}

export interface RoleState {
  name: string;
  canLogin: boolean;
}

/** Reads the role a target names from the catalog, or fails naming it and the server. */
export async function roleState(deps: PostgresDeps, role: string): Promise<RoleState> {
  const client = await deps.admin();
  const { rows } = await client.query<{ rolname: string; rolcanlogin: boolean }>('select rolname, rolcanlogin from pg_roles where rolname = $1', [role]);
  if (!rows[0]) throw targetNotFound(`role "${role}"`, postgresServer(deps.params));
  return { name: rows[0].rolname, canLogin: rows[0].rolcanlogin };
}
