import type { Redis } from 'ioredis';
import type { ConnectorType } from '../contract.js';
import { connectAdmin } from './client.js';
import { rotatePassword } from './credentials.js';
import { discoverRedis } from './discover.js';
import { setEnabled } from './login.js';
import { RedisParams } from './params.js';
import { killClients } from './sessions.js';

export const redisConnector: ConnectorType<typeof RedisParams> = {
  type: 'redis',
  provider: 'redis',
  title: 'Redis ACL users and clients',
  params: RedisParams,
  capabilities: ['discover', 'rotate_credential', 'revoke_sessions', 'disable_identity', 'enable_identity'],
  targetKinds: ['service_account'],
  connect(params) {
    let client: Promise<Redis> | undefined;
    const admin = () => (client ??= connectAdmin(params));
    const deps = { admin, params };
    return {
      discover: async () => discoverRedis(await admin()),
      actions: {
        rotate_credential: rotatePassword(deps),
        revoke_sessions: killClients(deps),
        disable_identity: setEnabled(deps, false),
        enable_identity: setEnabled(deps, true),
      },
      async close() {
        if (client) (await client.catch(() => undefined))?.disconnect();
      },
    };
  },
};
