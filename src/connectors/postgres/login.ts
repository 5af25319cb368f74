import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { tryLogin } from './client.js';
import { roleState, type PostgresDeps } from './roles.js';

/**
 * disable_identity (`NOLOGIN`) and enable_identity (`LOGIN`), each the other's rollback.
 * Open sessions are left alone: revoke_sessions ends them. Proof: the catalog's `rolcanlogin`,
 * and, with a secret Cordon holds, a login attempt refused because of NOLOGIN (or accepted).
 */
export function setLogin(deps: PostgresDeps, canLogin: boolean): ActionHandler {
  const keyword = canLogin ? 'LOGIN' : 'NOLOGIN';

  async function apply(role: string, to: boolean) {
    const state = await roleState(deps, role);
    const client = await deps.admin();
    if (state.canLogin !== to) await client.query(`alter role ${client.escapeIdentifier(state.name)} ${to ? 'login' : 'nologin'}`);
    return { output: { role: state.name, canLogin: to, changed: state.canLogin !== to } };
  }

  return {
    async plan(target) {
      const role = await roleState(deps, target.identity.externalRef);
      return {
        changes: role.canLogin === canLogin ? [] : [{
          op: canLogin ? 'set_login' : 'set_nologin',
          object: `role ${role.name}`,
          detail: canLogin ? 'LOGIN: the role may log in again' : 'NOLOGIN: new logins are refused; open sessions are not ended',
        }],
        reversible: true,
      };
    },
    execute: (target) => apply(target.identity.externalRef, canLogin),
    rollback: (target) => apply(target.identity.externalRef, !canLogin),
    async verify(target, context) {
      const role = await roleState(deps, target.identity.externalRef);
      const checks = [check(canLogin ? 'login_enabled_in_catalog' : 'login_disabled_in_catalog', role.canLogin === canLogin,
        `pg_roles.rolcanlogin is ${role.canLogin} for role ${role.name} (want ${keyword})`)];
      if (context.currentSecret) {
        const login = await tryLogin(deps.params, role.name, context.currentSecret);
        checks.push(canLogin
          ? check('login_accepted', login.outcome === 'accepted', login.outcome === 'accepted' ? `role ${role.name} logged in` : `login refused: ${login.reason}`)
          : check('login_refused', login.outcome === 'account_refused', login.outcome === 'account_refused'
            ? `the password was accepted and the login refused: ${login.reason}`
            : login.outcome === 'accepted' ? `role ${role.name} still logs in` : `the login failed for another reason, which proves nothing: ${login.reason}`));
      }
      return verification(checks);
    },
  };
}
