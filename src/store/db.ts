import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { CamelCasePlugin, Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { SerializedPGliteDialect } from './pglite-dialect.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Query modules take either, so a service can run them inside its transaction. */
export type Executor = Db | Tx;

export type StoreKind = 'pglite' | 'postgres';

export interface Store {
  db: Db;
  kind: StoreKind;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL connection string; when absent the store is embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; absent means an in-memory database (tests). */
  pgliteDir?: string;
  /**
   * An in-memory PGlite started from this dumped data directory (see `pgliteImage`) instead of
   * an empty one: tests open many stores, and copying a migrated image costs a fifth of initdb.
   */
  pgliteImage?: Blob;
  /** Size of the PostgreSQL pool. */
  poolSize?: number;
  /**
   * Told when the server drops an idle pooled connection (a restart, a terminated backend). The
   * pool replaces it on next use; without a listener the error would crash the process.
   */
  onConnectionError?: (error: Error) => void;
  migrate?: boolean;
}

const plugins = [new CamelCasePlugin({ maintainNestedObjectKeys: true })];

export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize ?? 10, options.onConnectionError ?? (() => undefined))
    : await openPglite(options.pgliteDir, options.pgliteImage);
  if (options.migrate !== false) {
    try {
      await migrateToLatest(store.db);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

function openPostgres(connectionString: string, max: number, onConnectionError: (error: Error) => void): Store {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', onConnectionError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/** A migrated, empty in-memory PGlite's data directory, as a tarball for `pgliteImage`. */
export async function pgliteImage(): Promise<Blob> {
  const pglite = await PGlite.create();
  try {
    await migrateToLatest(new Kysely<Database>({ dialect: new SerializedPGliteDialect({ pglite }), plugins }));
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}

async function openPglite(dataDir: string | undefined, image: Blob | undefined): Promise<Store> {
  let lock: DataDirLock | undefined;
  if (dataDir) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    lock = await acquireDataDirLock(dataDir);
  }
  try {
    const pglite = dataDir ? await PGlite.create(`${dataDir}/pgdata`) : await PGlite.create(image ? { loadDataDir: image } : undefined);
    const db = new Kysely<Database>({ dialect: new SerializedPGliteDialect({ pglite }), plugins });
    return {
      db,
      kind: 'pglite',
      close: async () => {
        await db.destroy();
        await lock?.release();
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
