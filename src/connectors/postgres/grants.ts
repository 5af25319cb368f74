import type pg from 'pg';
import type { ActionHandler, ActionTarget } from '../contract.js';
import { invalidTarget, requireGrant, targetNotFound } from '../failures.js';
import { check, verification } from '../proof.js';
import { postgresServer } from './client.js';
import { roleState, type PostgresDeps } from './roles.js';

const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
const DATABASE_PRIVILEGES = ['CONNECT', 'CREATE', 'TEMPORARY'];

/** The object a grant names, as discovery keyed it: `db` or `db.schema.relation`. */
interface GrantObject {
  kind: 'database' | 'table';
  /** Quoted, ready for GRANT/REVOKE. */
  sql: string;
  label: string;
  privileges: string[];
}

async function grantObject(deps: PostgresDeps, client: pg.Client, target: ActionTarget): Promise<GrantObject> {
  const grant = requireGrant(target);
  const { rows: [db] } = await client.query<{ datname: string }>('select current_database() as datname');
  let object: Omit<GrantObject, 'privileges'> & { allowed: string[] };
  if (grant.resourceKey === db!.datname) {
    object = { kind: 'database', sql: `database ${client.escapeIdentifier(db!.datname)}`, label: `database ${db!.datname}`, allowed: DATABASE_PRIVILEGES };
  } else {
    // Matching the whole key against the catalog avoids splitting names that contain dots.
    const { rows: [rel] } = await client.query<{ nspname: string; relname: string }>(
      `select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where current_database() || '.' || n.nspname || '.' || c.relname = $1 and c.relkind in ('r', 'v', 'm', 'p')`, [grant.resourceKey]);
    if (!rel) throw targetNotFound(`resource "${grant.resourceKey}"`, postgresServer(deps.params));
    object = { kind: 'table', sql: `table ${client.escapeIdentifier(rel.nspname)}.${client.escapeIdentifier(rel.relname)}`, label: `table ${rel.nspname}.${rel.relname}`, allowed: TABLE_PRIVILEGES };
  }
  const privileges = grant.permissions.map((p, i) => {
    const name = p.toUpperCase() === 'TEMP' ? 'TEMPORARY' : p.toUpperCase();
    if (!object.allowed.includes(name)) throw invalidTarget(`/grant/permissions/${i}`, `must be one of ${object.allowed.join(', ')} on a ${object.kind}`);
    return name;
  });
  return { kind: object.kind, sql: object.sql, label: object.label, privileges: [...new Set(privileges)].sort() };
}

/** Privileges granted to the role itself on the object (not through PUBLIC or membership). */
async function heldPrivileges(client: pg.Client, object: GrantObject, role: string, key: string): Promise<string[]> {
  const { rows } = object.kind === 'database'
    ? await client.query<{ privilege: string }>(
      `select a.privilege_type as privilege from pg_database d cross join lateral aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        where d.datname = current_database() and a.grantee = (select oid from pg_roles where rolname = $1)`, [role])
    : await client.query<{ privilege: string }>(
      `select a.privilege_type as privilege from pg_class c join pg_namespace n on n.oid = c.relnamespace
         cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        where current_database() || '.' || n.nspname || '.' || c.relname = $2 and c.relkind in ('r', 'v', 'm', 'p')
          and a.grantee = (select oid from pg_roles where rolname = $1)`, [role, key]);
  return [...new Set(rows.map((r) => r.privilege))].filter((p) => object.privileges.includes(p)).sort();
}

/**
 * remove_grant: `REVOKE` the privileges discovery found on the object it named; rollback grants
 * them again. Proof: the object's ACL no longer grants them to the role.
 */
export function revokeGrant(deps: PostgresDeps): ActionHandler {
  async function change(target: ActionTarget, verb: 'grant' | 'revoke') {
    const role = await roleState(deps, target.identity.externalRef);
    const client = await deps.admin();
    const object = await grantObject(deps, client, target);
    const before = await heldPrivileges(client, object, role.name, target.grant!.resourceKey);
    await client.query(`${verb} ${object.privileges.join(', ')} on ${object.sql} ${verb === 'grant' ? 'to' : 'from'} ${client.escapeIdentifier(role.name)}`);
    return { output: { role: role.name, object: object.label, [verb === 'grant' ? 'granted' : 'revoked']: object.privileges, heldBefore: before } };
  }

  return {
    async plan(target) {
      const role = await roleState(deps, target.identity.externalRef);
      const client = await deps.admin();
      const object = await grantObject(deps, client, target);
      const held = await heldPrivileges(client, object, role.name, target.grant!.resourceKey);
      return {
        changes: held.length ? [{ op: 'revoke_privileges', object: object.label, detail: `REVOKE ${held.join(', ')} FROM ${role.name}` }] : [],
        reversible: true,
      };
    },
    execute: (target) => change(target, 'revoke'),
    rollback: (target) => change(target, 'grant'),
    async verify(target) {
      const role = await roleState(deps, target.identity.externalRef);
      const client = await deps.admin();
      const object = await grantObject(deps, client, target);
      const held = await heldPrivileges(client, object, role.name, target.grant!.resourceKey);
      return verification([
        check('grant_absent', held.length === 0, held.length === 0
          ? `the ACL of ${object.label} grants none of ${object.privileges.join(', ')} to role ${role.name}`
          : `the ACL of ${object.label} still grants ${held.join(', ')} to role ${role.name}`),
      ]);
    },
  };
}
