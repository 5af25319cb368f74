import type mysql from 'mysql2/promise';
import { invalidTarget, targetNotFound } from '../failures.js';
import { mariadbServer } from './client.js';
import type { MariadbParams } from './params.js';

export interface MariadbDeps {
  admin(): Promise<mysql.Connection>;
  params: MariadbParams;
}

/** A MariaDB account is a user name and the host pattern it may connect from. */
export interface Account {
  user: string;
  host: string;
}

/** `orders_api@%` → user `orders_api`, host `%` (a user name may itself contain `@`). */
export function parseAccount(externalRef: string): Account {
  const at = externalRef.lastIndexOf('@');
  if (at <= 0) throw invalidTarget('/identity/externalRef', `must be user@host (got "${externalRef}")`);
  return { user: externalRef.slice(0, at), host: externalRef.slice(at + 1) };
}

export function accountName(account: Account): string {
  return `'${account.user}'@'${account.host}'`;
}

/** The account's entry in `mysql.global_priv`: its authentication and lock state. */
export interface AccountPriv {
  account_locked?: boolean;
  is_role?: boolean;
  plugin?: string;
  password_last_changed?: number;
  auth_or?: { plugin?: string }[];
}

export function parsePriv(priv: unknown): AccountPriv {
  return (typeof priv === 'string' ? JSON.parse(priv) : priv ?? {}) as AccountPriv;
}

export async function accountState(deps: MariadbDeps, externalRef: string): Promise<Account & { locked: boolean }> {
  const account = parseAccount(externalRef);
  const connection = await deps.admin();
  const [rows] = await connection.query<mysql.RowDataPacket[]>('select priv from mysql.global_priv where user = ? and host = ?', [account.user, account.host]);
  const priv = rows[0] ? parsePriv(rows[0].priv) : undefined;
  if (!priv || priv.is_role) throw targetNotFound(`account ${accountName(account)}`, mariadbServer(deps.params));
  return { ...account, locked: priv.account_locked === true };
}

/** `10.0.%` style host patterns (SQL LIKE wildcards), matched as MariaDB does: case-insensitive. */
export function hostMatches(pattern: string, clientHost: string): boolean {
  const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) regex += literal(pattern[++i]!);
    else regex += c === '%' ? '.*' : c === '_' ? '.' : literal(c);
  }
  return new RegExp(`^${regex}$`, 'i').test(clientHost);
}

/** The host part of a PROCESSLIST `HOST` (`10.1.2.3:51234` → `10.1.2.3`). */
export function clientHostOf(processHost: string): string {
  return processHost.replace(/:\d+$/, '');
}

/**
 * Which of the accounts with this user name a connection authenticated as: the only one, or
 * the most specific host pattern that matches the client (MariaDB sorts exact hosts first).
 */
export function accountOfConnection(user: string, processHost: string, accounts: Account[]): Account | undefined {
  const candidates = accounts.filter((a) => a.user === user);
  if (candidates.length <= 1) return candidates[0];
  const host = clientHostOf(processHost);
  const specificity = (pattern: string) => (/[%_]/.test(pattern) ? pattern.replace(/[%_]/g, '').length : 1000 + pattern.length);
  return candidates.filter((a) => hostMatches(a.host, host)).sort((a, b) => specificity(b.host) - specificity(a.host))[0];
}
