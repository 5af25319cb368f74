import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { tryLogin } from './client.js';
import { existingUser, passwordHash, setUser, type RedisDeps } from './users.js';

/**
 * disable_identity (`ACL SETUSER u off`) and enable_identity (`on`), each the other's rollback;
 * connected clients stay (revoke_sessions ends them). Proof: the user's flags, and, with a secret
 * Cordon holds, AUTH refused although the secret is one of the user's passwords (Redis gives
 * the same WRONGPASS for both, so the ACL tells the two apart).
 */
export function setEnabled(deps: RedisDeps, on: boolean): ActionHandler {
  const flag = on ? 'on' : 'off';
  async function apply(name: string, to: boolean) {
    const user = await existingUser(deps, name);
    const isOn = user.flags.includes('on');
    if (isOn !== to) await setUser(deps, user.name, to ? 'on' : 'off');
    return { output: { user: user.name, on: to, changed: isOn !== to } };
  }

  return {
    async plan(target) {
      const user = await existingUser(deps, target.identity.externalRef);
      return {
        changes: user.flags.includes(flag) ? [] : [{
          op: on ? 'user_on' : 'user_off',
          object: `ACL user ${user.name}`,
          detail: on ? 'ACL SETUSER on: AUTH works again' : 'ACL SETUSER off: AUTH is refused; connected clients are not closed',
        }],
        reversible: true,
      };
    },
    execute: (target) => apply(target.identity.externalRef, on),
    rollback: (target) => apply(target.identity.externalRef, !on),
    async verify(target, context) {
      const user = await existingUser(deps, target.identity.externalRef);
      const checks = [check(on ? 'user_on' : 'user_off', user.flags.includes(flag), `ACL GETUSER ${user.name} flags: ${user.flags.join(' ')}`)];
      if (context.currentSecret) {
        const login = await tryLogin(deps.params, user.name, context.currentSecret);
        const known = user.passwords.includes(passwordHash(context.currentSecret));
        checks.push(on
          ? check('login_accepted', login.outcome === 'accepted', login.outcome === 'accepted' ? `AUTH ${user.name} succeeded` : `AUTH ${user.name} refused: ${login.reason}`)
          : check('login_refused', login.outcome !== 'accepted' && known, login.outcome === 'accepted' ? `AUTH ${user.name} still succeeds`
            : known ? `AUTH ${user.name} with one of its passwords refused: ${login.reason}` : 'the secret given is not one of the user\'s passwords: its refusal proves nothing'));
      }
      return verification(checks);
    },
  };
}
