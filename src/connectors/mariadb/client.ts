import mysql from 'mysql2/promise';
import { unreachable } from '../failures.js';
import type { LoginOutcome } from '../proof.js';
import type { MariadbParams } from './params.js';

export function mariadbServer(params: MariadbParams): string {
  return `MariaDB at ${params.host}:${params.port}`;
}

function optionsFor(params: MariadbParams, user: string, password: string | undefined): mysql.ConnectionOptions {
  return {
    host: params.host,
    port: params.port,
    user,
    password,
    ssl: params.ssl ? { rejectUnauthorized: true } : undefined,
    connectTimeout: params.connectTimeoutMs ?? 5000,
  };
}

/** An error the server sent (access denied, unknown user …), as opposed to a network failure. */
function isServerError(error: unknown): error is { errno: number; sqlMessage: string } {
  return typeof error === 'object' && error !== null && 'sqlMessage' in error;
}

export async function connectAdmin(params: MariadbParams): Promise<mysql.Connection> {
  try {
    const connection = await mysql.createConnection(optionsFor(params, params.user, params.password));
    // A dropped admin connection fails the next query; an unhandled 'error' event must not crash.
    connection.on('error', () => undefined);
    return connection;
  } catch (error) {
    throw unreachable(mariadbServer(params), error);
  }
}

const ER_ACCESS_DENIED = 1045;
// MariaDB reports a locked account only to a client that gave the right password.
const ER_ACCOUNT_HAS_BEEN_LOCKED = 4151;

/** Logs in as the account's user from Cordon's host; only proofs call it. */
export async function tryLogin(params: MariadbParams, user: string, secret: string): Promise<LoginOutcome> {
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection(optionsFor(params, user, secret));
    return { outcome: 'accepted' };
  } catch (error) {
    if (!isServerError(error)) throw unreachable(mariadbServer(params), error);
    if (error.errno === ER_ACCESS_DENIED) return { outcome: 'bad_secret', reason: error.sqlMessage };
    if (error.errno === ER_ACCOUNT_HAS_BEEN_LOCKED) return { outcome: 'account_refused', reason: error.sqlMessage };
    return { outcome: 'refused', reason: error.sqlMessage };
  } finally {
    await connection?.end().catch(() => undefined);
  }
}
