import type mysql from 'mysql2/promise';
import type { Discovery, DiscoveredGrant, DiscoveredResource } from '../contract.js';
import { accountOfConnection, parsePriv, type Account } from './accounts.js';

/** `'orders_api'@'%'` (information_schema's GRANTEE) → `orders_api@%` (Cordon's external ref). */
function refOfGrantee(grantee: string): string {
  const match = /^'(.*)'@'(.*)'$/.exec(grantee);
  return match ? `${match[1]}@${match[2]}` : grantee;
}

/**
 * Reads accounts (`mysql.global_priv`, roles left out), their connections (PROCESSLIST, each
 * attributed to the account whose host pattern the client matches) and their privileges
 * (information_schema, global, per schema and per table).
 */
export async function discoverMariadb(admin: mysql.Connection): Promise<Discovery> {
  const [accountRows] = await admin.query<mysql.RowDataPacket[]>('select user, host, priv from mysql.global_priv order by user, host');
  const [processRows] = await admin.query<mysql.RowDataPacket[]>(
    `select ID, USER, HOST, DB, COMMAND from information_schema.PROCESSLIST where ID <> connection_id() and COMMAND <> 'Daemon' order by ID`);
  // PROCESSLIST has no connect time: a connection was opened after the server started.
  const [[uptime]] = await admin.query<mysql.RowDataPacket[]>(`select variable_value as seconds from information_schema.GLOBAL_STATUS where variable_name = 'UPTIME'`);
  const [global] = await admin.query<mysql.RowDataPacket[]>(`select GRANTEE, PRIVILEGE_TYPE from information_schema.USER_PRIVILEGES where PRIVILEGE_TYPE <> 'USAGE'`);
  const [schema] = await admin.query<mysql.RowDataPacket[]>('select GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE from information_schema.SCHEMA_PRIVILEGES');
  const [table] = await admin.query<mysql.RowDataPacket[]>('select GRANTEE, TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE from information_schema.TABLE_PRIVILEGES');

  const accounts = accountRows
    .map((r) => ({ user: r.user as string, host: r.host as string, priv: parsePriv(r.priv) }))
    .filter((a) => !a.priv.is_role);
  const serverStart = new Date(Date.now() - Number(uptime!.seconds) * 1000);

  const resources = new Map<string, DiscoveredResource>();
  const byGrant = new Map<string, DiscoveredGrant>();
  const add = (grantee: string, key: string, kind: string, privilege: string) => {
    resources.set(key, { key, kind, name: key });
    const identityRef = refOfGrantee(grantee);
    const id = `${identityRef}\u0000${key}`;
    const grant = byGrant.get(id) ?? { identityRef, resourceKey: key, permissions: [] };
    if (!grant.permissions.includes(privilege)) grant.permissions.push(privilege);
    byGrant.set(id, grant);
  };
  for (const g of global) add(g.GRANTEE, '*.*', 'server', g.PRIVILEGE_TYPE);
  for (const g of schema) add(g.GRANTEE, `${g.TABLE_SCHEMA}.*`, 'database', g.PRIVILEGE_TYPE);
  for (const g of table) add(g.GRANTEE, `${g.TABLE_SCHEMA}.${g.TABLE_NAME}`, 'table', g.PRIVILEGE_TYPE);

  const plain: Account[] = accounts.map(({ user, host }) => ({ user, host }));
  return {
    identities: accounts.map((a) => ({
      externalRef: `${a.user}@${a.host}`,
      kind: 'db_role',
      name: `${a.user}@${a.host}`,
      canLogin: a.priv.account_locked !== true,
      attributes: {
        accountLocked: a.priv.account_locked === true,
        plugins: [a.priv.plugin, ...(a.priv.auth_or ?? []).map((o) => o.plugin)].filter(Boolean),
        passwordLastChanged: a.priv.password_last_changed ? new Date(a.priv.password_last_changed * 1000).toISOString() : null,
      },
    })),
    sessions: processRows.flatMap((p) => {
      const owner = accountOfConnection(p.USER, p.HOST, plain);
      if (!owner) return [];
      return [{
        key: `connection ${p.ID}`,
        identityRef: `${owner.user}@${owner.host}`,
        issuedAt: serverStart,
        attributes: { connectionId: p.ID, clientHost: p.HOST, database: p.DB, command: p.COMMAND },
      }];
    }),
    resources: [...resources.values()],
    grants: [...byGrant.values()].map((g) => ({ ...g, permissions: g.permissions.sort() })),
  };
}
