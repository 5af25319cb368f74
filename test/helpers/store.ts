import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreKind } from '../../src/store/db.js';
import { skipUnless } from './services.js';

export const STORE_KINDS: readonly StoreKind[] = ['pglite', 'postgres'];

export const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore extends Store {
  /** Connection string of the test's own database (PostgreSQL only). */
  url?: string;
}

/**
 * A fresh, migrated store: an in-memory PGlite, or a new database on the local PostgreSQL that
 * is dropped on close, so test files can run in parallel without seeing each other.
 */
export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'pglite') return openStore({});
  const name = `cordon_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const store = await openStore({ databaseUrl: url, poolSize: 8 });
  return {
    ...store,
    url,
    close: async () => {
      await store.close();
      // The pool's last connections may still be closing: let them go before dropping.
      for (let i = 0; i < 100 && Number((await adminQuery('select count(*) as n from pg_stat_activity where datname = $1', [name])).rows[0].n) > 0; i++);
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

/** Why a suite on this store kind cannot run here (false when it can). */
export async function storeSkip(kind: StoreKind): Promise<string | false> {
  return kind === 'postgres' ? skipUnless('postgres') : false;
}

export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}
