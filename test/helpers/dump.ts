import { sql } from 'kysely';
import type { Executor } from '../../src/store/db.js';

/** Every row of every table as JSON text: what a thief with the database would read. */
export async function dumpDatabase(db: Executor): Promise<string> {
  const { rows: tables } = await sql<{ tableName: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(db);
  const parts: string[] = [];
  for (const { tableName } of tables) {
    const { rows } = await sql<{ row: string }>`select row_to_json(t)::text as row from ${sql.table(tableName)} t`.execute(db);
    parts.push(...rows.map((r) => `${tableName}: ${r.row}`));
  }
  return parts.join('\n');
}
