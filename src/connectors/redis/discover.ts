import type { Redis } from 'ioredis';
import type { Discovery, DiscoveredGrant, DiscoveredResource } from '../contract.js';
import { clientList } from './sessions.js';
import { aclUser, type AclUser } from './users.js';

/**
 * Reads ACL users, their clients (`CLIENT LIST`) and what each may do: one resource per key
 * pattern, granted the user's command rules.
 */
export async function discoverRedis(admin: Redis): Promise<Discovery> {
  const names = await admin.call('ACL', 'USERS') as string[];
  const users: AclUser[] = [];
  for (const name of names) {
    const user = await aclUser(admin, name);
    if (user) users.push(user);
  }
  const clients = await clientList(admin);
  const [seconds] = await admin.call('TIME') as [string, string];
  const info = String(await admin.call('INFO', 'server'));
  // Client ids restart with the server: its run id keeps session keys unique across restarts.
  const runId = /run_id:(\w+)/.exec(info)?.[1] ?? 'unknown';
  const known = new Set(users.map((u) => u.name));

  const resources = new Map<string, DiscoveredResource>();
  const grants: DiscoveredGrant[] = [];
  for (const user of users) {
    const permissions = user.commands.split(' ').filter(Boolean);
    for (const pattern of user.keys.split(' ').filter(Boolean)) {
      const key = `keys ${pattern}`;
      resources.set(key, { key, kind: 'keyspace', name: pattern });
      grants.push({ identityRef: user.name, resourceKey: key, permissions });
    }
  }

  return {
    identities: users.map((u) => ({
      externalRef: u.name,
      kind: 'service_account',
      name: u.name,
      canLogin: u.flags.includes('on') && (u.flags.includes('nopass') || u.passwords.length > 0),
      attributes: { flags: u.flags, passwordCount: u.passwords.length, commands: u.commands, keys: u.keys, channels: u.channels },
    })),
    sessions: clients.filter((c) => known.has(c.user)).map((c) => ({
      key: `${runId}:${c.id}`,
      identityRef: c.user,
      issuedAt: new Date((Number(seconds) - c.age) * 1000),
      attributes: { clientId: c.id, addr: c.addr, name: c.name || null, db: c.db },
    })),
    resources: [...resources.values()],
    grants,
  };
}
