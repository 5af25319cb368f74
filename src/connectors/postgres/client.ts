import pg from 'pg';
import { UnavailableError } from '../../domain/errors.js';
import type { PostgresParams } from './params.js';

/** Opens one admin connection to the target server, with errors that name the server. */
export async function connectAdmin(params: PostgresParams): Promise<pg.Client> {
  const client = new pg.Client({
    host: params.host,
    port: params.port,
    database: params.database,
    user: params.user,
    password: params.password,
    ssl: params.ssl ? { rejectUnauthorized: true } : undefined,
    connectionTimeoutMillis: params.connectTimeoutMs ?? 5000,
    application_name: 'cordon',
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new UnavailableError('ERR_CONNECTOR_UNREACHABLE', `PostgreSQL at ${params.host}:${params.port}/${params.database}: ${(error as Error).message}`, { cause: error });
  }
  return client;
}
