import type { Migration } from './types.js';

/**
 * Signals and detections: normalized events (raw payloads with secrets replaced by
 * fingerprints, kept as `json`: the record as sent, never queried into, cheaper to write than
 * jsonb), dead letters, detections and per-identity baselines. No foreign keys on the
 * ingestion path: an identity removed while its events stream in must not fail the batch.
 */
export const ingestDetect: Migration = {
  name: '0002_ingest_detect',
  statements: [
    `create table events (
      id text primary key,
      dedupe_key text not null,
      source text not null,
      format text not null,
      type text not null,
      time timestamptz not null,
      received_at timestamptz not null default now(),
      identity_ids text[] not null default '{}',
      credential_ids text[] not null default '{}',
      fingerprints text[] not null default '{}',
      jti text,
      source_ip text,
      source_asn bigint,
      source_geo text,
      user_agent text,
      action text,
      target text,
      outcome text not null,
      attributes jsonb not null default '{}',
      raw json not null
    )`,
    `create unique index events_by_dedupe_key on events (dedupe_key)`,
    `create index events_by_time on events (time)`,
    `create table dead_letters (
      id text primary key,
      digest text not null unique,
      received_at timestamptz not null default now(),
      channel text not null,
      format text,
      record_index integer not null,
      line integer,
      code text not null,
      reason text not null,
      issues jsonb not null default '[]',
      payload jsonb,
      sealed_record text not null,
      size integer not null
    )`,
    `create index dead_letters_by_time on dead_letters (received_at, id)`,
    `create table detections (
      id text primary key,
      dedupe_key text not null unique,
      rule text not null,
      type text not null,
      severity text not null,
      confidence text not null,
      identity_id text,
      credential_id text,
      title text not null,
      summary text not null,
      evidence_event_ids text[] not null,
      frameworks jsonb not null,
      attributes jsonb not null default '{}',
      occurred_at timestamptz not null,
      detected_at timestamptz not null default now()
    )`,
    `create index detections_by_time on detections (detected_at, id)`,
    `create index detections_by_identity on detections (identity_id, detected_at) where identity_id is not null`,
    `create table baselines (
      identity_id text primary key,
      observations bigint not null,
      state jsonb not null,
      updated_at timestamptz not null default now()
    )`,
  ],
};
