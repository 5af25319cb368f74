import { finished } from 'node:stream/promises';
import { CompiledQuery, PGliteAdapter, PostgresAdapter } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import type { Executor } from '../store/db.js';

/**
 * Whether `copyFromStdin` works on this store: PostgreSQL through node-postgres (the server
 * store). PGlite takes COPY data only through its own API (a blob), which Kysely's driver does
 * not pass.
 */
export function storeTakesCopy(db: Executor): boolean {
  const adapter = db.getExecutor().adapter;
  return adapter instanceof PostgresAdapter && !(adapter instanceof PGliteAdapter);
}

/**
 * Runs `COPY … FROM STDIN` with `data` (COPY text format) on the connection of `db` (a
 * transaction, so the rows commit with it). Kysely has no COPY; its PostgreSQL driver hands a
 * compiled query's `sql` to node-postgres' `client.query`, which runs any submittable query
 * object it is given in place of text, and pg-copy-streams' COPY stream is one. The stream
 * rides in `sql` for that one call; resolves with the rows copied, rejects with the server's
 * error (the transaction is then aborted: run it in a savepoint to carry on).
 */
export async function copyFromStdin(db: Executor, statement: string, data: Buffer): Promise<number> {
  const stream = copyFrom(statement);
  // Handing the stream over resolves at once (node-postgres returns the submittable itself, not a promise).
  await db.executeQuery({ ...CompiledQuery.raw(statement), sql: stream as unknown as string });
  stream.end(data);
  await finished(stream);
  return stream.rowCount;
}
