import { sql } from 'kysely';
import type { Executor } from '../store/db.js';
import { copyFromStdin } from './copy.js';
import { columnArrays, EVENT_COLUMNS } from './event-rows.js';
import type { IngestedEvent } from './ingested.js';

/**
 * A batch of accepted events ready for the store, built before the batch takes its turn (so
 * this CPU work overlaps the previous batch's writing): COPY text when the store takes COPY.
 */
export interface EventBatch {
  events: IngestedEvent[];
  /** Each event's record as JSON text (`events.raw`). */
  raws: string[];
  /** The events as COPY text (`copyRowsWriter`), when the store takes COPY. */
  copy?: Buffer;
}

const COLUMN_LIST = EVENT_COLUMNS.join(', ');

/** Which events of a batch a write inserted (the others were stored already). */
export interface Inserted {
  count: number;
  has(eventId: string): boolean;
}

const every = (count: number): Inserted => ({ count, has: () => true });

function only(ids: Set<string>): Inserted {
  return { count: ids.size, has: (id) => ids.has(id) };
}

/**
 * Stores a batch of events; a dedupe key already stored is skipped. Says which events it
 * inserted. On PostgreSQL the rows are copied straight into `events` (`COPY … FROM STDIN`, the
 * cheapest write there is) inside a savepoint; when a dedupe key is already stored the COPY fails
 * on it, the savepoint is rolled back and the batch is inserted row by row instead, skipping what
 * is stored (as on PGlite).
 */
export async function insertEvents(tx: Executor, batch: EventBatch): Promise<Inserted> {
  if (batch.events.length === 0) return every(0);
  if (batch.copy) {
    await sql`savepoint events_copy`.execute(tx);
    try {
      await copyFromStdin(tx, `copy events (${COLUMN_LIST}) from stdin`, batch.copy);
      await sql`release savepoint events_copy`.execute(tx);
      return every(batch.events.length);
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await sql`rollback to savepoint events_copy`.execute(tx);
    }
  }
  return insertSkippingStored(tx, batch);
}

const UNIQUE_VIOLATION = '23505';

/**
 * `INSERT … ON CONFLICT (dedupe_key) DO NOTHING` of the batch. Each column travels as one JSON
 * array parameter, unnested side by side (`ROWS FROM`): the server parses each value once (the
 * raw record too, taken as it is into the `json` column), with none of the per-field work of
 * `json_populate_recordset`. When the row count says every event was new, the inserted ids are
 * known without sending rows back; else the batch's ids (fresh, random) found in the table are
 * the ones inserted here.
 */
async function insertSkippingStored(tx: Executor, batch: EventBatch): Promise<Inserted> {
  const [id, dedupeKey, source, format, type, time, identityIds, credentialIds, fingerprints, jti, sourceIp, sourceAsn, sourceGeo, userAgent, action, target, outcome, attributes, raw] = columnArrays(batch.events, batch.raws);
  const { numAffectedRows } = await sql`
    insert into events (${sql.raw(COLUMN_LIST)})
    select id, dedupe_key, source, format, type, time::timestamptz, identity_ids::text[], credential_ids::text[], fingerprints::text[], jti,
           source_ip, source_asn::bigint, source_geo, user_agent, action, target, outcome, attributes, raw
      from rows from (
        json_array_elements_text(${id}::json), json_array_elements_text(${dedupeKey}::json), json_array_elements_text(${source}::json),
        json_array_elements_text(${format}::json), json_array_elements_text(${type}::json), json_array_elements_text(${time}::json),
        json_array_elements_text(${identityIds}::json), json_array_elements_text(${credentialIds}::json),
        json_array_elements_text(${fingerprints}::json), json_array_elements_text(${jti}::json), json_array_elements_text(${sourceIp}::json),
        json_array_elements_text(${sourceAsn}::json), json_array_elements_text(${sourceGeo}::json), json_array_elements_text(${userAgent}::json),
        json_array_elements_text(${action}::json), json_array_elements_text(${target}::json), json_array_elements_text(${outcome}::json),
        jsonb_array_elements(${attributes}::jsonb), json_array_elements(${raw}::json)
      ) as r(${sql.raw(COLUMN_LIST)})
    on conflict (dedupe_key) do nothing`.execute(tx);
  if (numAffectedRows === BigInt(batch.events.length)) return every(batch.events.length);
  const { rows } = await sql<{ id: string }>`select id from events where id = any(${batch.events.map((e) => e.id)}::text[])`.execute(tx);
  return only(new Set(rows.map((r) => r.id)));
}
