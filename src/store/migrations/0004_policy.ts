import type { Migration } from './types.js';

/** Request-time policy: policy versions (whole sets, as loaded) and the decision log. */
export const policy: Migration = {
  name: '0004_policy',
  statements: [
    `create table policy_versions (
      version integer primary key,
      digest text not null,
      origin text not null,
      schema_document jsonb not null,
      policy_documents jsonb not null,
      entities_document jsonb,
      policy_ids jsonb not null,
      comment text,
      created_by text not null,
      created_at timestamptz not null default now()
    )`,
    `create index policy_versions_by_origin on policy_versions (origin, version)`,
    `create table policy_decisions (
      seq bigint generated always as identity primary key,
      id uuid not null unique,
      at timestamptz not null,
      policy_version integer not null,
      principal_type text not null,
      principal_id text not null,
      action text not null,
      resource_type text not null,
      resource_id text not null,
      decision text not null,
      reasons jsonb not null,
      errors jsonb not null,
      task_id text,
      caller text not null,
      context_keys jsonb not null,
      duration_us integer not null
    )`,
    `create index policy_decisions_by_principal on policy_decisions (principal_id, seq)`,
    `create index policy_decisions_by_decision on policy_decisions (decision, seq)`,
  ],
};
