import { sql, type RawBuilder } from 'kysely';

/**
 * Keyset pagination for lists ordered newest first by a timestamp and then by id: the cursor is
 * `<timestamp ISO>|<id>` of the last item of a page.
 */
export function encodeCursor(at: Date, id: string): string {
  return `${at.toISOString()}|${id}`;
}

/** The condition selecting the items after `cursor` (none for a cursor that does not parse). */
export function afterCursor(column: string, cursor: string): RawBuilder<boolean> | undefined {
  const bar = cursor.indexOf('|');
  const at = new Date(cursor.slice(0, bar));
  if (bar < 0 || Number.isNaN(at.getTime())) return undefined;
  return sql<boolean>`(${sql.ref(column)}, id) < (${at}, ${cursor.slice(bar + 1)})`;
}
