import { setTimeout as delay } from 'node:timers/promises';
import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import type { TrackedConnection } from './management.js';
import type { RabbitmqDeps } from './users.js';

const connectionsPath = (user: string) => `/connections/username/${encodeURIComponent(user)}`;

/**
 * revoke_sessions: `DELETE /api/connections/username/{name}` closes every connection of the
 * user, with a reason the client sees; then waits (bounded) until the broker tracks none.
 */
export function closeConnections(deps: RabbitmqDeps): ActionHandler {
  const waitMs = deps.params.connectTimeoutMs ?? 5000;
  const connectionsOf = async (user: string) => await deps.api.get<TrackedConnection[]>(connectionsPath(user)) ?? [];
  return {
    async plan(target) {
      const user = await deps.api.user(target.identity.externalRef);
      return {
        changes: (await connectionsOf(user.name)).map((c) => ({ op: 'close_connection', object: `connection ${c.name}`, detail: `user ${user.name} on vhost ${c.vhost}` })),
        reversible: false,
      };
    },
    async execute(target) {
      const user = await deps.api.user(target.identity.externalRef);
      const open = await connectionsOf(user.name);
      if (open.length) await deps.api.delete(connectionsPath(user.name), 'Closed by Cordon: credential containment');
      const deadline = Date.now() + waitMs;
      while ((await connectionsOf(user.name)).length > 0 && Date.now() < deadline) await delay(20);
      return { output: { user: user.name, closed: open.map((c) => c.name) } };
    },
    async verify(target) {
      const user = await deps.api.user(target.identity.externalRef);
      const left = await connectionsOf(user.name);
      return verification([
        check('sessions_gone', left.length === 0, left.length === 0
          ? `the broker tracks no connection of user ${user.name}`
          : `the broker still tracks ${left.length} connection(s) of user ${user.name}: ${left.map((c) => c.name).join(', ')}`),
      ]);
    },
  };
}
