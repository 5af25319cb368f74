import type { ConnectorType } from '../contract.js';
import { rotatePassword } from './credentials.js';
import { discoverRabbitmq } from './discover.js';
import { setConnectionsAllowed } from './login.js';
import { managementApi } from './management.js';
import { RabbitmqParams } from './params.js';
import { closeConnections } from './sessions.js';

/**
 * Acts through the management plugin's HTTP API (a remote, documented interface, unlike
 * `rabbitmqctl`, which must run on the broker's host with its Erlang cookie) and proves with AMQP.
 */
export const rabbitmqConnector: ConnectorType<typeof RabbitmqParams> = {
  type: 'rabbitmq',
  provider: 'rabbitmq',
  title: 'RabbitMQ users and connections',
  params: RabbitmqParams,
  capabilities: ['discover', 'rotate_credential', 'revoke_sessions', 'disable_identity', 'enable_identity'],
  targetKinds: ['service_account'],
  connect(params) {
    const deps = { api: managementApi(params), params };
    return {
      discover: () => discoverRabbitmq(deps.api),
      actions: {
        rotate_credential: rotatePassword(deps),
        revoke_sessions: closeConnections(deps),
        disable_identity: setConnectionsAllowed(deps, false),
        enable_identity: setConnectionsAllowed(deps, true),
      },
      // Each request stands alone: nothing to release.
      close: async () => undefined,
    };
  },
};
