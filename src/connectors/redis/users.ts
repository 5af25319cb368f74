import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { commandFailed, targetNotFound } from '../failures.js';
import { redisServer } from './client.js';
import type { RedisParams } from './params.js';

export interface RedisDeps {
  admin(): Promise<Redis>;
  params: RedisParams;
}

/** An ACL user as `ACL GETUSER` describes it. */
export interface AclUser {
  name: string;
  flags: string[];
  /** SHA-256 (hex) of each password the user accepts. */
  passwords: string[];
  commands: string;
  keys: string;
  channels: string;
}

/** How Redis stores an ACL password, and how Cordon gives one without sending it in clear. */
export function passwordHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function aclUser(admin: Redis, name: string): Promise<AclUser | undefined> {
  const reply = await admin.call('ACL', 'GETUSER', name) as unknown[] | null;
  if (!reply) return undefined;
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  const text = (key: string) => (typeof fields.get(key) === 'string' ? fields.get(key) as string : '');
  return {
    name,
    flags: (fields.get('flags') as string[] | undefined) ?? [],
    passwords: (fields.get('passwords') as string[] | undefined) ?? [],
    commands: text('commands'),
    keys: text('keys'),
    channels: text('channels'),
  };
}

export async function existingUser(deps: RedisDeps, name: string): Promise<AclUser> {
  const user = await aclUser(await deps.admin(), name);
  if (!user) throw targetNotFound(`ACL user "${name}"`, redisServer(deps.params));
  return user;
}

/**
 * Applies an `ACL SETUSER` change and, when the server loads its users from an ACL file, saves
 * it there, so a restart does not bring the old state back.
 */
export async function setUser(deps: RedisDeps, name: string, ...rules: string[]): Promise<void> {
  const admin = await deps.admin();
  try {
    await admin.call('ACL', 'SETUSER', name, ...rules);
    const [, aclfile] = await admin.call('CONFIG', 'GET', 'aclfile') as [string, string];
    if (aclfile) await admin.call('ACL', 'SAVE');
  } catch (error) {
    // ioredis attaches the command's arguments (a password hash among them) to its errors.
    throw commandFailed(redisServer(deps.params), `ACL SETUSER ${name}`, error);
  }
}
