import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, pgliteImage, type Store, type StoreKind } from '../../src/store/db.js';
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
  if (kind === 'pglite') return openStore({ pgliteImage: await migratedImage() });
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

let image: Promise<Blob> | undefined;

/**
 * The migrated PGlite every test store starts from, built once and kept in the temp directory
 * for the other test processes, under a name that changes with the migrations and PGlite's
 * version (a stale image is never used). Migrations still run on open, so a missing one would
 * be applied, not hidden.
 */
function migratedImage(): Promise<Blob> {
  image ??= (async () => {
    const path = join(tmpdir(), `cordon-test-pglite-${imageKey()}.tar`);
    const cached = await readFile(path).catch(() => undefined);
    if (cached) return new Blob([cached]);
    const built = await pgliteImage();
    // Best effort: without room in the temp directory, every process builds its own.
    const partial = `${path}.${process.pid}`;
    await writeFile(partial, Buffer.from(await built.arrayBuffer())).then(() => rename(partial, path)).catch(() => rm(partial, { force: true }));
    return built;
  })();
  return image;
}

function imageKey(): string {
  const hash = createHash('sha256');
  const migrations = new URL('../../src/store/migrations/', import.meta.url);
  for (const file of readdirSync(migrations).sort()) hash.update(file).update(readFileSync(new URL(file, migrations)));
  hash.update(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}
