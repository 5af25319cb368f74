import { sql, type Kysely } from 'kysely';
import { Migrator, type MigrationProvider, type Migration as KyselyMigration } from 'kysely/migration';
import { UnavailableError } from '../domain/errors.js';
import { migrations } from './migrations/index.js';

const provider: MigrationProvider = {
  async getMigrations() {
    const byName: Record<string, KyselyMigration> = {};
    for (const migration of migrations) {
      byName[migration.name] = {
        async up(db: Kysely<unknown>) {
          for (const statement of migration.statements) await sql.raw(statement).execute(db);
        },
      };
    }
    return byName;
  },
};

/**
 * Applies pending migrations. Kysely's migrator takes an advisory lock, so several processes
 * starting at once against one PostgreSQL apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Features are developed side by side: a migration may land after a higher-numbered one.
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new UnavailableError('ERR_STORE_MIGRATION', `migration ${failed} failed: ${String((error as Error).message ?? error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
