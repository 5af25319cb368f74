import pg from 'pg';
import { unreachable } from '../failures.js';
import type { LoginOutcome } from '../proof.js';
import type { PostgresParams } from './params.js';

/** How errors and plans name the server. */
export function postgresServer(params: PostgresParams): string {
  return `PostgreSQL at ${params.host}:${params.port}/${params.database}`;
}

function clientFor(params: PostgresParams, user: string, password: string | undefined, application: string): pg.Client {
  return new pg.Client({
    host: params.host,
    port: params.port,
    database: params.database,
    user,
    password,
    ssl: params.ssl ? { rejectUnauthorized: true } : undefined,
    connectionTimeoutMillis: params.connectTimeoutMs ?? 5000,
    application_name: application,
  });
}

/** Opens one admin connection to the target server, with errors that name the server. */
export async function connectAdmin(params: PostgresParams): Promise<pg.Client> {
  const client = clientFor(params, params.user, params.password, 'cordon');
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unreachable(postgresServer(params), error);
  }
  return client;
}

// SQLSTATE 28P01 is a wrong password; "not permitted to log in" (28000, NOLOGIN) comes only
// after the password was accepted.
const NOT_PERMITTED = /is not permitted to log in/;

/** Tries to log in as `role` with `secret` on the connector's database; only proofs call it. */
export async function tryLogin(params: PostgresParams, role: string, secret: string): Promise<LoginOutcome> {
  const client = clientFor(params, role, secret, 'cordon-verify');
  try {
    await client.connect();
    return { outcome: 'accepted' };
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) throw unreachable(postgresServer(params), error);
    if (error.code === '28P01') return { outcome: 'bad_secret', reason: error.message };
    if (error.code === '28000' && NOT_PERMITTED.test(error.message)) return { outcome: 'account_refused', reason: error.message };
    return { outcome: 'refused', reason: error.message };
  } finally {
    await client.end().catch(() => undefined);
  }
}
