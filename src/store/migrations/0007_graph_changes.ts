import type { Migration } from './types.js';

/** Tables whose rows make up the identity graph that blast radius walks. */
export const GRAPH_TABLES = ['identities', 'credentials', 'sessions', 'grants', 'edges', 'resources'] as const;

/**
 * A change log of the identity graph, written by statement-level triggers (one row per
 * statement, whatever the number of rows), so each process's in-memory graph index can catch up
 * with changes made by any process. Rows carry the writing transaction's id: a reader knows every
 * transaction older than its snapshot's xmin has settled.
 */
export const graphChanges: Migration = {
  name: '0007_graph_changes',
  statements: [
    `create table graph_changes (
      seq bigint generated always as identity primary key,
      xid xid8 not null default pg_current_xact_id(),
      table_name text not null,
      ids text[] not null,
      at timestamptz not null default now()
    )`,
    `create index graph_changes_by_xid on graph_changes (xid)`,
    `create function cordon_graph_change() returns trigger language plpgsql as $$
    declare
      changed text[];
    begin
      if TG_OP = 'INSERT' then
        select array_agg(distinct id::text) into changed from new_rows;
      elsif TG_OP = 'DELETE' then
        select array_agg(distinct id::text) into changed from old_rows;
      else
        select array_agg(distinct id) into changed from (select id::text from new_rows union select id::text from old_rows) both_sides;
      end if;
      if changed is not null then
        insert into graph_changes (table_name, ids) values (TG_TABLE_NAME, changed);
      end if;
      return null;
    end
    $$`,
    ...GRAPH_TABLES.flatMap((table) => [
      `create trigger ${table}_graph_insert after insert on ${table}
        referencing new table as new_rows for each statement execute function cordon_graph_change()`,
      `create trigger ${table}_graph_update after update on ${table}
        referencing old table as old_rows new table as new_rows for each statement execute function cordon_graph_change()`,
      `create trigger ${table}_graph_delete after delete on ${table}
        referencing old table as old_rows for each statement execute function cordon_graph_change()`,
    ]),
  ],
};
