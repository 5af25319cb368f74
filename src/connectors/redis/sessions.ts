import type { Redis } from 'ioredis';
import type { ActionHandler } from '../contract.js';
import { check, verification } from '../proof.js';
import { existingUser, type RedisDeps } from './users.js';

export interface RedisClient {
  id: string;
  addr: string;
  name: string;
  user: string;
  /** Seconds since the client connected. */
  age: number;
  db: string;
}

/** `CLIENT LIST`, one `key=value …` line per client, without the connector's own connection. */
export async function clientList(admin: Redis): Promise<RedisClient[]> {
  const own = String(await admin.call('CLIENT', 'ID'));
  const text = String(await admin.call('CLIENT', 'LIST'));
  return text.split('\n').filter((line) => line.trim()).map((line) => {
    const fields = new Map(line.trim().split(' ').map((pair) => {
      const eq = pair.indexOf('=');
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
    }));
    return { id: fields.get('id') ?? '', addr: fields.get('addr') ?? '', name: fields.get('name') ?? '', user: fields.get('user') ?? '', age: Number(fields.get('age') ?? 0), db: fields.get('db') ?? '0' };
  }).filter((c) => c.id !== own);
}

/** revoke_sessions: `CLIENT KILL USER u` closes every connection authenticated as the user. */
export function killClients(deps: RedisDeps): ActionHandler {
  const clientsOf = async (user: string) => (await clientList(await deps.admin())).filter((c) => c.user === user);
  return {
    async plan(target) {
      const user = await existingUser(deps, target.identity.externalRef);
      return {
        changes: (await clientsOf(user.name)).map((c) => ({
          op: 'kill_client', object: `client id ${c.id}`, detail: `ACL user ${user.name} from ${c.addr}${c.name ? ` (${c.name})` : ''}, connected ${c.age}s ago`,
        })),
        reversible: false,
      };
    },
    async execute(target) {
      const user = await existingUser(deps, target.identity.externalRef);
      const killed = Number(await (await deps.admin()).call('CLIENT', 'KILL', 'USER', user.name));
      return { output: { user: user.name, killed } };
    },
    async verify(target) {
      const user = await existingUser(deps, target.identity.externalRef);
      const left = await clientsOf(user.name);
      return verification([
        check('sessions_gone', left.length === 0, left.length === 0
          ? `CLIENT LIST shows no client of ACL user ${user.name}`
          : `CLIENT LIST still shows ${left.length} client(s) of ACL user ${user.name}: id ${left.map((c) => c.id).join(', ')}`),
      ]);
    },
  };
}
