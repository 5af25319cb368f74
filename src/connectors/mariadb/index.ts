import type mysql from 'mysql2/promise';
import type { ConnectorType } from '../contract.js';
import { connectAdmin } from './client.js';
import { rotatePassword } from './credentials.js';
import { discoverMariadb } from './discover.js';
import { setLock } from './login.js';
import { MariadbParams } from './params.js';
import { killConnections } from './sessions.js';

export const mariadbConnector: ConnectorType<typeof MariadbParams> = {
  type: 'mariadb',
  provider: 'mariadb',
  title: 'MariaDB accounts and connections',
  params: MariadbParams,
  capabilities: ['discover', 'rotate_credential', 'revoke_sessions', 'disable_identity', 'enable_identity'],
  targetKinds: ['db_role', 'service_account'],
  connect(params) {
    let connection: Promise<mysql.Connection> | undefined;
    const admin = () => (connection ??= connectAdmin(params));
    const deps = { admin, params };
    return {
      discover: async () => discoverMariadb(await admin()),
      actions: {
        rotate_credential: rotatePassword(deps),
        revoke_sessions: killConnections(deps),
        disable_identity: setLock(deps, true),
        enable_identity: setLock(deps, false),
      },
      async close() {
        if (connection) await (await connection.catch(() => undefined))?.end();
      },
    };
  },
};
