import type { ConnectorType } from '../contract.js';
import { connectAdmin } from './client.js';
import { discoverPostgres } from './discover.js';
import { PostgresParams } from './params.js';

export const postgresConnector: ConnectorType<typeof PostgresParams> = {
  type: 'postgres',
  provider: 'postgres',
  title: 'PostgreSQL roles and sessions',
  params: PostgresParams,
  capabilities: ['discover'],
  targetKinds: ['db_role', 'service_account'],
  connect(params) {
    let client: Promise<import('pg').Client> | undefined;
    const admin = () => (client ??= connectAdmin(params));
    return {
      discover: async () => discoverPostgres(await admin()),
      async close() {
        if (client) await (await client.catch(() => undefined))?.end();
      },
    };
  },
};
