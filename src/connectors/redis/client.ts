import { once } from 'node:events';
import { Redis } from 'ioredis';
import { unreachable } from '../failures.js';
import type { LoginOutcome } from '../proof.js';
import type { RedisParams } from './params.js';

export function redisServer(params: RedisParams): string {
  return `Redis at ${params.host}:${params.port}`;
}

/** A reply the server sent (`WRONGPASS …`, `NOPERM …`, `ERR …`), as opposed to a network failure. */
export function isServerReply(error: unknown): error is Error {
  return error instanceof Error && /^[A-Z]{2,}\b/.test(error.message);
}

/**
 * One connection that never reconnects or queues: a failure surfaces at once as the error the
 * server or the network gave, and every command is bounded by the connect timeout.
 */
async function open(params: RedisParams, username: string | undefined, password: string | undefined): Promise<Redis> {
  const timeout = params.connectTimeoutMs ?? 5000;
  const client = new Redis({
    host: params.host, port: params.port, username, password,
    tls: params.tls ? {} : undefined,
    lazyConnect: true, connectTimeout: timeout, commandTimeout: timeout,
    retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, enableReadyCheck: false, disableClientInfo: true,
  });
  // ioredis reports why a connection failed as an 'error' event, not through connect().
  const failed = once(client, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  client.on('error', () => undefined);
  try {
    await Promise.race([client.connect(), failed]);
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

export async function connectAdmin(params: RedisParams): Promise<Redis> {
  try {
    return await open(params, params.username, params.password);
  } catch (error) {
    throw unreachable(redisServer(params), error);
  }
}

/**
 * AUTH as the user on a connection of its own. Redis answers WRONGPASS both to a wrong password
 * and to a user that is off, so proofs read the ACL alongside.
 */
export async function tryLogin(params: RedisParams, user: string, secret: string): Promise<LoginOutcome> {
  try {
    const client = await open(params, user, secret);
    client.disconnect();
    return { outcome: 'accepted' };
  } catch (error) {
    if (!isServerReply(error)) throw unreachable(redisServer(params), error);
    return error.message.startsWith('WRONGPASS') ? { outcome: 'bad_secret', reason: error.message } : { outcome: 'refused', reason: error.message };
  }
}
