import type pg from 'pg';
import type { ConnectorType } from '../contract.js';
import { connectAdmin } from './client.js';
import { rotatePassword } from './credentials.js';
import { discoverPostgres } from './discover.js';
import { revokeGrant } from './grants.js';
import { setLogin } from './login.js';
import { PostgresParams } from './params.js';
import { terminateSessions } from './sessions.js';

export const postgresConnector: ConnectorType<typeof PostgresParams> = {
  type: 'postgres',
  provider: 'postgres',
  title: 'PostgreSQL roles and sessions',
  params: PostgresParams,
  capabilities: ['discover', 'rotate_credential', 'revoke_sessions', 'disable_identity', 'enable_identity', 'remove_grant'],
  targetKinds: ['db_role', 'service_account'],
  connect(params) {
    let client: Promise<pg.Client> | undefined;
    const admin = () => (client ??= connectAdmin(params));
    const deps = { admin, params };
    return {
      discover: async () => discoverPostgres(await admin()),
      actions: {
        rotate_credential: rotatePassword(deps),
        revoke_sessions: terminateSessions(deps),
        disable_identity: setLogin(deps, false),
        enable_identity: setLogin(deps, true),
        remove_grant: revokeGrant(deps),
      },
      async close() {
        if (client) await (await client.catch(() => undefined))?.end();
      },
    };
  },
};
