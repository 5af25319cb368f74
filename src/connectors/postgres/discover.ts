import type pg from 'pg';
import type { Discovery } from '../contract.js';

/**
 * Reads login roles, their memberships, client sessions (`pg_stat_activity`) and privileges on
 * the connected database (from the ACLs, so it sees every role's grants, not only the
 * connector account's).
 */
export async function discoverPostgres(client: pg.Client): Promise<Discovery> {
  // One connection answers one query at a time: ask in turn.
  const roles = await client.query<{ rolname: string; rolcanlogin: boolean; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolreplication: boolean; rolbypassrls: boolean; rolvaliduntil: Date | null }>(
    `select rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolvaliduntil
       from pg_roles where rolname !~ '^pg_' order by rolname`,
  );
  const members = await client.query<{ member: string; role: string }>(
    `select m.rolname as member, r.rolname as role
       from pg_auth_members am join pg_roles r on r.oid = am.roleid join pg_roles m on m.oid = am.member`,
  );
  const activity = await client.query<{ pid: number; usename: string; datname: string | null; client_addr: string | null; application_name: string; backend_start: Date; state: string | null }>(
    `select pid, usename, datname, client_addr::text, application_name, backend_start, state
       from pg_stat_activity
      where backend_type = 'client backend' and usename is not null and pid <> pg_backend_pid()`,
  );
  const tables = await client.query<{ grantee: string; schema: string; name: string; relkind: string; privileges: string[] }>(
    `select r.rolname as grantee, n.nspname as schema, c.relname as name, c.relkind::text as relkind,
            array_agg(distinct a.privilege_type order by a.privilege_type) as privileges
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
       join pg_roles r on r.oid = a.grantee
      where c.relkind in ('r', 'v', 'm', 'p')
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
      group by 1, 2, 3, 4`,
  );
  const database = await client.query<{ datname: string; grantee: string; privileges: string[] }>(
    `select d.datname, r.rolname as grantee, array_agg(distinct a.privilege_type order by a.privilege_type) as privileges
       from pg_database d
       cross join lateral aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
       join pg_roles r on r.oid = a.grantee
      where d.datname = current_database()
      group by 1, 2`,
  );

  const memberOf = new Map<string, string[]>();
  for (const { member, role } of members.rows) memberOf.set(member, [...(memberOf.get(member) ?? []), role]);

  const dbName = database.rows[0]?.datname ?? client.database ?? 'postgres';
  const resources = new Map<string, { key: string; kind: string; name: string }>();
  resources.set(dbName, { key: dbName, kind: 'database', name: dbName });
  const grants = database.rows.map((g) => ({ identityRef: g.grantee, resourceKey: dbName, permissions: g.privileges }));
  for (const t of tables.rows) {
    const key = `${dbName}.${t.schema}.${t.name}`;
    resources.set(key, { key, kind: t.relkind === 'v' || t.relkind === 'm' ? 'view' : 'table', name: `${t.schema}.${t.name}` });
    grants.push({ identityRef: t.grantee, resourceKey: key, permissions: t.privileges });
  }

  return {
    identities: roles.rows.map((r) => ({
      externalRef: r.rolname,
      kind: 'db_role',
      name: r.rolname,
      canLogin: r.rolcanlogin,
      attributes: {
        canLogin: r.rolcanlogin,
        superuser: r.rolsuper,
        createRole: r.rolcreaterole,
        createDb: r.rolcreatedb,
        replication: r.rolreplication,
        bypassRls: r.rolbypassrls,
        validUntil: r.rolvaliduntil && Number.isFinite(r.rolvaliduntil.getTime()) ? r.rolvaliduntil.toISOString() : null,
        memberOf: memberOf.get(r.rolname) ?? [],
      },
    })),
    sessions: activity.rows.map((s) => ({
      key: `${s.pid}@${s.backend_start.getTime()}`,
      identityRef: s.usename,
      issuedAt: s.backend_start,
      attributes: { pid: s.pid, database: s.datname, clientAddr: s.client_addr, application: s.application_name, state: s.state },
    })),
    resources: [...resources.values()],
    grants,
  };
}
