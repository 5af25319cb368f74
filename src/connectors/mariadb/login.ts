import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { accountName, accountState, type MariadbDeps } from './accounts.js';
import { tryLogin } from './client.js';

/**
 * disable_identity (`ACCOUNT LOCK`) and enable_identity (`ACCOUNT UNLOCK`), each the other's
 * rollback; open connections stay (revoke_sessions ends them). Proof: `mysql.global_priv`, and,
 * with a secret Cordon holds, a login refused because the account is locked (or accepted).
 */
export function setLock(deps: MariadbDeps, locked: boolean): ActionHandler {
  async function apply(externalRef: string, to: boolean) {
    const account = await accountState(deps, externalRef);
    if (account.locked !== to) await (await deps.admin()).query(`alter user ?@? account ${to ? 'lock' : 'unlock'}`, [account.user, account.host]);
    return { output: { account: accountName(account), locked: to, changed: account.locked !== to } };
  }

  return {
    async plan(target) {
      const account = await accountState(deps, target.identity.externalRef);
      return {
        changes: account.locked === locked ? [] : [{
          op: locked ? 'lock_account' : 'unlock_account',
          object: `account ${accountName(account)}`,
          detail: locked ? 'ACCOUNT LOCK: new logins are refused; open connections are not ended' : 'ACCOUNT UNLOCK: the account may log in again',
        }],
        reversible: true,
      };
    },
    execute: (target) => apply(target.identity.externalRef, locked),
    rollback: (target) => apply(target.identity.externalRef, !locked),
    async verify(target, context) {
      const account = await accountState(deps, target.identity.externalRef);
      const checks = [check(locked ? 'account_locked' : 'account_unlocked', account.locked === locked,
        `mysql.global_priv says ${accountName(account)} is ${account.locked ? 'locked' : 'not locked'}`)];
      if (context.currentSecret) {
        const login = await tryLogin(deps.params, account.user, context.currentSecret);
        checks.push(locked
          ? check('login_refused', login.outcome === 'account_refused', login.outcome === 'account_refused'
            ? `the password was accepted and the login refused: ${login.reason}`
            : login.outcome === 'accepted' ? `${accountName(account)} still logs in` : `the login failed for another reason, which proves nothing: ${login.reason}`)
          : check('login_accepted', login.outcome === 'accepted', login.outcome === 'accepted' ? `${accountName(account)} logged in` : `login refused: ${login.reason}`));
      }
      return verification(checks);
    },
  };
}
