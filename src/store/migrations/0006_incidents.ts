import type { Migration } from './types.js';

/**
 * The incident workspace: the incident's type (its first detection's, for the recovery checklist
 * and the report's framework references) and its blast-radius snapshot, taken when it opens and
 * refreshed on demand.
 */
export const incidents: Migration = {
  name: '0006_incidents',
  statements: [
    `alter table incidents add column type text not null default 'manual'`,
    `alter table incidents add column summary text not null default ''`,
    `alter table incidents add column blast_radius jsonb`,
    `alter table incidents add column blast_radius_at timestamptz`,
    `create index incidents_by_status on incidents (status, opened_at desc)`,
  ],
};
