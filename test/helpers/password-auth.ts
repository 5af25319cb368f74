import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { adminQuery } from './store.js';

/**
 * The local PostgreSQL trusts loopback connections, so no password is ever checked. Roles that
 * are members of this group log in with a password instead: `.ci/run` puts
 * `host all +cordon_password_auth 127.0.0.1/32 scram-sha-256` first in pg_hba.conf. Tests that
 * prove an old password is refused create their roles in this group.
 */
export const PASSWORD_AUTH_GROUP = 'cordon_password_auth';

export async function ensurePasswordAuthGroup(): Promise<void> {
  try {
    await adminQuery(`create role ${PASSWORD_AUTH_GROUP} nologin`);
  } catch (error) {
    // Test files run in parallel: another one may have created it first.
    if (!['42710', '23505', 'XX000'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

/** `false` when members of the group must give their password; otherwise the skip reason. */
export async function passwordAuthSkip(): Promise<string | false> {
  await ensurePasswordAuthGroup();
  const role = `cordon_t_probe_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create role ${role} login password 'right-${role}' in role ${PASSWORD_AUTH_GROUP}`);
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: role, password: 'wrong' });
  let checked = false;
  try {
    await client.connect();
  } catch (error) {
    checked = (error as { code?: string }).code === '28P01';
  } finally {
    await client.end().catch(() => undefined);
    await adminQuery(`drop role ${role}`);
  }
  if (checked) return false;
  const reason = `PostgreSQL does not check passwords for members of ${PASSWORD_AUTH_GROUP} (pg_hba.conf needs the rule .ci/run adds)`;
  if (process.env.CORDON_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and CORDON_REQUIRE_SERVICES=1 requires it`);
  return reason;
}
