import type { Migration } from './types.js';

/**
 * The just-in-time credential broker: signing keys (private halves sealed), trusted workload
 * issuers, tasks, the revocation log every process replays, CAEP receivers and dynamic database
 * credentials. Issued tokens are rows of `sessions` (source `broker`).
 */
export const broker: Migration = {
  name: '0003_broker',
  statements: [
    `create table broker_signing_keys (
      kid text primary key,
      alg text not null,
      public_jwk jsonb not null,
      private_key_sealed text not null,
      created_at timestamptz not null default now(),
      activates_at timestamptz not null,
      expires_at timestamptz
    )`,
    `create table broker_issuers (
      id text primary key,
      issuer text not null unique,
      kind text not null,
      jwks_uri text,
      jwks jsonb,
      audiences text[] not null,
      algorithms text[] not null,
      trust_domain text,
      bindings jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table broker_tasks (
      id text primary key,
      identity_id text not null references identities(id) on delete cascade,
      purpose text not null,
      status text not null default 'active',
      created_by text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      ended_at timestamptz,
      end_reason text
    )`,
    `create index broker_tasks_by_identity on broker_tasks (identity_id, status)`,
    `create index broker_tasks_expiring on broker_tasks (expires_at) where status = 'active'`,
    `create index sessions_by_broker_task on sessions ((attributes->>'task')) where source = 'broker'`,
    `create index sessions_broker_expiring on sessions (expires_at) where source = 'broker' and status = 'active'`,
    `create table broker_revocations (
      seq bigint generated always as identity primary key,
      kind text not null,
      ref text not null,
      expires_at timestamptz not null,
      at timestamptz not null default now()
    )`,
    `create index broker_revocations_by_expiry on broker_revocations (expires_at)`,
    `create table broker_receivers (
      id text primary key,
      endpoint text not null,
      audience text not null,
      events text[] not null,
      authorization_sealed text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table broker_db_credentials (
      id text primary key,
      task_id text not null references broker_tasks(id) on delete cascade,
      identity_id text not null references identities(id) on delete cascade,
      credential_id text not null references credentials(id) on delete cascade,
      connector_id text not null references connectors(id),
      role_name text not null unique,
      member_of text[] not null,
      status text not null default 'active',
      valid_until timestamptz not null,
      created_at timestamptz not null default now(),
      dropped_at timestamptz
    )`,
    `create index broker_db_credentials_by_task on broker_db_credentials (task_id)`,
  ],
};
