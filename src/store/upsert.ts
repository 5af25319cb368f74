import { sql } from 'kysely';
import type { Executor } from './db.js';
import type { Database } from './schema.js';

export interface UpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

const CHUNK = 500;

/**
 * Inserts rows or updates the existing ones, touching a row only when a given field differs, so
 * importing the same data twice changes nothing (not even `updated_at`, which every upserted
 * table has). A field a row does not give is left as stored: rows are grouped by the fields
 * they give.
 */
export async function upsertRows<T extends keyof Database & string>(
  db: Executor,
  table: T,
  rows: Record<string, unknown>[],
  conflict: readonly string[],
): Promise<UpsertCounts> {
  const counts: UpsertCounts = { created: 0, updated: 0, unchanged: 0 };
  for (const group of groupByFields(rows)) {
    for (let i = 0; i < group.rows.length; i += CHUNK) {
      const chunk = group.rows.slice(i, i + CHUNK);
      const changed = group.fields.filter((f) => !conflict.includes(f));
      const returned = await insertChunk(db, table, chunk, conflict, changed);
      for (const row of returned) row.inserted ? counts.created++ : counts.updated++;
      counts.unchanged += chunk.length - returned.length;
    }
  }
  return counts;
}

async function insertChunk(
  db: Executor,
  table: string,
  rows: Record<string, unknown>[],
  conflict: readonly string[],
  changed: string[],
): Promise<{ inserted: boolean }[]> {
  const query = (db as any)
    .insertInto(table)
    .values(rows)
    .onConflict((oc: any) => {
      const target = oc.columns(conflict);
      if (changed.length === 0) return target.doNothing();
      const set: Record<string, unknown> = Object.fromEntries(changed.map((c) => [c, sql.ref(`excluded.${c}`)]));
      set.updatedAt = sql`now()`;
      return target.doUpdateSet(set).where(
        sql`(${sql.join(changed.map((c) => sql.ref(`${table}.${c}`)))}) is distinct from (${sql.join(changed.map((c) => sql.ref(`excluded.${c}`)))})`,
      );
    })
    // xmax is 0 for a row this statement inserted, set for one it updated.
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'));
  return query.execute();
}

function groupByFields(rows: Record<string, unknown>[]): { fields: string[]; rows: Record<string, unknown>[] }[] {
  const groups = new Map<string, { fields: string[]; rows: Record<string, unknown>[] }>();
  for (const row of rows) {
    const fields = Object.keys(row).filter((k) => row[k] !== undefined).sort();
    const key = fields.join(',');
    const defined = Object.fromEntries(fields.map((f) => [f, row[f]]));
    const group = groups.get(key);
    if (group) group.rows.push(defined);
    else groups.set(key, { fields, rows: [defined] });
  }
  return [...groups.values()];
}
