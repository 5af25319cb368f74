import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { tryLogin } from './amqp.js';
import { limitPath, proofVhost, type RabbitmqDeps } from './users.js';

/**
 * disable_identity sets the user's `max-connections` limit to 0: the broker refuses every new
 * connection of the user, on every vhost, and the password, tags and permissions stay as they
 * were. enable_identity removes that limit; each is the other's rollback. Open connections stay
 * (revoke_sessions closes them). Proof: the limit read back, and, with a secret Cordon holds, an
 * AMQP login whose password is accepted and whose connection is then refused.
 */
export function setConnectionsAllowed(deps: RabbitmqDeps, allowed: boolean): ActionHandler {
  async function apply(name: string, to: boolean) {
    const user = await deps.api.user(name);
    const blocked = user.limits['max-connections'] === 0;
    const changed = to ? blocked : !blocked;
    if (changed && to) await deps.api.delete(limitPath(user.name));
    if (changed && !to) await deps.api.put(limitPath(user.name), { value: 0 });
    return { output: { user: user.name, connectionsAllowed: to, changed } };
  }

  return {
    async plan(target) {
      const user = await deps.api.user(target.identity.externalRef);
      const limit = user.limits['max-connections'];
      const blocked = limit === 0;
      return {
        changes: blocked !== allowed ? [] : [allowed
          ? { op: 'remove_connection_limit', object: `user ${user.name}`, detail: 'remove the max-connections limit of 0: the user may connect again' }
          : { op: 'limit_connections_to_zero', object: `user ${user.name}`, detail: `max-connections ${limit ?? 'unlimited'} → 0: new connections are refused; open ones are not closed${limit !== undefined ? ` (enable removes the limit; ${limit} is not restored)` : ''}` }],
        reversible: true,
      };
    },
    execute: (target) => apply(target.identity.externalRef, allowed),
    rollback: (target) => apply(target.identity.externalRef, !allowed),
    async verify(target, context) {
      const user = await deps.api.user(target.identity.externalRef);
      const blocked = user.limits['max-connections'] === 0;
      const checks = [check(allowed ? 'connections_allowed' : 'connections_blocked', blocked !== allowed,
        `user ${user.name} max-connections: ${user.limits['max-connections'] ?? 'unlimited'}`)];
      if (context.currentSecret) {
        const vhost = await proofVhost(deps, user.name);
        const login = await tryLogin(deps.params, user.name, context.currentSecret, vhost);
        checks.push(allowed
          ? check('login_accepted', login.outcome === 'accepted', login.outcome === 'accepted' ? `user ${user.name} connected to vhost ${vhost}` : `AMQP login refused: ${login.reason}`)
          : check('login_refused', login.outcome === 'account_refused', login.outcome === 'account_refused' ? login.reason
            : login.outcome === 'accepted' ? `user ${user.name} still connects to vhost ${vhost}` : `the login failed for another reason, which proves nothing: ${login.reason}`));
      }
      return verification(checks);
    },
  };
}
