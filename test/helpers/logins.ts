import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * Logins and live sessions made the way each system's applications make them: the tests' own
 * proof, independent of Cordon's. Each login resolves to 'ok' or the reason the server gave.
 */

export async function loginPostgres(database: string, role: string, password: string): Promise<'ok' | string> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, database, user: role, password });
  try {
    await client.connect();
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function loginMariadb(user: string, password: string): Promise<'ok' | number> {
  try {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password });
    await connection.end();
    return 'ok';
  } catch (error) {
    return (error as { errno: number }).errno;
  }
}

export async function loginRedis(user: string, password: string): Promise<string> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return String(await client.call('AUTH', user, password));
  } catch (error) {
    return (error as Error).message.split(' ')[0]!;
  } finally {
    client.disconnect();
  }
}

export async function loginRabbitmq(user: string, password: string): Promise<string> {
  try {
    const connection = await amqp.connect({ hostname: '127.0.0.1', port: 5672, username: user, password });
    await connection.close();
    return 'ok';
  } catch (error) {
    const message = (error as Error).message;
    return /403/.test(message) ? 'ACCESS_REFUSED' : /ConnectionClose|530/.test(message) ? 'OPEN_REFUSED' : message;
  }
}

/** A session an application holds open; `close` ends it if the server has not. */
export interface LiveSession {
  close(): Promise<void>;
}

/**
 * An open PostgreSQL session as the role. A connection the server terminated is not ended again:
 * the driver's `end()` can wait for an 'end' that already came.
 */
export async function postgresSession(database: string, role: string, password: string): Promise<LiveSession> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, database, user: role, password, application_name: 'app-under-test' });
  let ended = false;
  client.on('error', () => undefined);
  client.once('end', () => (ended = true));
  await client.connect();
  return { close: async () => (ended ? undefined : client.end().catch(() => undefined)) };
}

export async function mariadbSession(user: string, password: string): Promise<LiveSession> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password });
  connection.on('error', () => undefined);
  return { close: () => connection.end().catch(() => undefined) };
}

export async function redisSession(user: string, password: string): Promise<LiveSession> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, username: user, password, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  await client.connect();
  return { close: async () => client.disconnect() };
}

export async function rabbitmqSession(user: string, password: string): Promise<LiveSession> {
  const connection = await amqp.connect({ hostname: '127.0.0.1', port: 5672, username: user, password });
  connection.on('error', () => undefined);
  connection.on('close', () => undefined);
  return { close: () => connection.close().catch(() => undefined) };
}

/** The management API as an operator (guest) uses it, behind Cordon's back. */
export async function rabbitmqAdmin(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:15672/api${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return response.status === 200 ? response.json() : undefined;
}

export async function mariadbRoot<T = mysql.RowDataPacket[]>(sql: string, values: unknown[] = []): Promise<T> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  try {
    return (await connection.query(sql, values))[0] as T;
  } finally {
    await connection.end();
  }
}

export async function redisAdmin<T>(command: string, ...args: string[]): Promise<T> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.call(command, ...args) as T;
  } finally {
    client.disconnect();
  }
}
