import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types as Kysely sees them (camelCase; the columns are snake_case and the store's
 * CamelCasePlugin maps them). Each migration that adds a table adds its interface here.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** jsonb columns take JSON text on write (so arrays are not sent as SQL arrays) and give values back. */
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
/** int8 comes back as string (pg) or bigint (PGlite): read it with `Number()`. */
type Int8 = ColumnType<string | number | bigint, number | bigint, number | bigint>;

export interface TeamTable {
  id: string;
  name: string;
  responsibility: string;
  channel: string | null;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface ConnectorTable {
  id: string;
  type: string;
  name: string | null;
  environment: string | null;
  /** Typed parameters; secret ones are `env:`/`file:` references or `sealed:` ciphertext. */
  params: Json<Record<string, unknown>>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface ResourceTable {
  id: string;
  kind: string;
  name: string;
  environment: string | null;
  criticality: string;
  attributes: Json<Record<string, unknown>>;
  source: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface IdentityTable {
  id: string;
  kind: string;
  name: string;
  provider: string;
  connectorId: string | null;
  externalRef: string | null;
  environment: string;
  status: string;
  criticality: string;
  tags: ColumnType<string[], string[], string[]>;
  schedule: NullableJson<Record<string, unknown>>;
  attributes: Json<Record<string, unknown>>;
  source: string;
  createdAt: Timestamp;
  updatedAt: UpdatedAt;
  lastUsedAt: Timestamp | null;
}

export interface CredentialTable {
  id: string;
  identityId: string;
  name: string;
  type: string;
  /** Keyed fingerprint (HMAC-SHA256, hex) of the value; never the value. */
  fingerprint: string | null;
  externalRef: string | null;
  status: string;
  storedIn: NullableJson<{ kind: string; path: string }>;
  createdAt: Timestamp;
  expiresAt: Timestamp | null;
  lastRotatedAt: Timestamp | null;
  updatedAt: UpdatedAt;
}

export interface SessionTable {
  id: string;
  identityId: string;
  credentialId: string | null;
  parentSessionId: string | null;
  jti: string | null;
  source: string;
  status: string;
  issuedAt: Timestamp;
  expiresAt: Timestamp | null;
  endedAt: Timestamp | null;
  attributes: Json<Record<string, unknown>>;
  updatedAt: UpdatedAt;
}

export interface GrantTable {
  id: string;
  identityId: string;
  resourceId: string;
  permissions: ColumnType<string[], string[], string[]>;
  source: string;
  grantedAt: Timestamp | null;
  lastUsedAt: Timestamp | null;
  updatedAt: UpdatedAt;
}

export interface EdgeTable {
  id: Generated<Int8>;
  kind: string;
  fromType: string;
  fromId: string;
  toType: string;
  toId: string;
  attributes: Json<Record<string, unknown>>;
  source: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface ApiTokenTable {
  id: string;
  name: string;
  subject: string;
  role: string;
  /** SHA-256 of the token (a random 256-bit value, so an unsalted hash is enough). */
  tokenHash: string;
  createdBy: string;
  createdAt: CreatedAt;
  expiresAt: Timestamp | null;
  lastUsedAt: Timestamp | null;
  revokedAt: Timestamp | null;
}

export interface AuditTable {
  seq: Int8;
  at: Timestamp;
  actor: string;
  actorSubject: string;
  action: string;
  subject: string;
  payload: Json<Record<string, unknown>>;
  payloadDigest: string;
  prevHash: string;
  hash: string;
}

export interface JobTable {
  id: string;
  kind: string;
  payload: Json<Record<string, unknown>>;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  maxAttempts: ColumnType<number, number | undefined, number>;
  runAfter: ColumnType<Date, Date | string | undefined, Date | string>;
  lockedBy: string | null;
  lockedUntil: Timestamp | null;
  result: NullableJson<Record<string, unknown>>;
  error: string | null;
  createdBy: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface EventTable {
  id: string;
  /** `<format>:<the producer's id>` or a keyed digest of the record: a record sent twice is stored once. */
  dedupeKey: string;
  source: string;
  format: string;
  type: string;
  time: Timestamp;
  receivedAt: CreatedAt;
  identityIds: ColumnType<string[], string[] | undefined, never>;
  credentialIds: ColumnType<string[], string[] | undefined, never>;
  /** Fingerprints of the secrets the record carried; the values themselves are not kept. */
  fingerprints: ColumnType<string[], string[] | undefined, never>;
  jti: string | null;
  sourceIp: string | null;
  sourceAsn: Int8 | null;
  sourceGeo: string | null;
  userAgent: string | null;
  action: string | null;
  target: string | null;
  outcome: string;
  attributes: Json<Record<string, unknown>>;
  /** The record as received, every secret replaced by its fingerprint. */
  raw: Json<unknown>;
}

export interface DeadLetterTable {
  id: string;
  /** Keyed digest of the record's text: the same bad record is kept once. */
  digest: string;
  receivedAt: CreatedAt;
  channel: string;
  format: string | null;
  recordIndex: number;
  line: number | null;
  code: string;
  reason: string;
  issues: Json<{ path: string; message: string }[]>;
  /** The record when it was JSON, secrets replaced by fingerprints. */
  payload: NullableJson<unknown>;
  /** The record as received, sealed (JWE) under the master key, for replay. */
  sealedRecord: string;
  size: number;
}

export interface DetectionTable {
  id: string;
  dedupeKey: string;
  rule: string;
  type: string;
  severity: string;
  confidence: string;
  identityId: string | null;
  credentialId: string | null;
  title: string;
  summary: string;
  evidenceEventIds: ColumnType<string[], string[], never>;
  frameworks: Json<{ owaspNhi: string[]; nistCsf: string[] }>;
  attributes: Json<Record<string, unknown>>;
  occurredAt: Timestamp;
  detectedAt: CreatedAt;
}

export interface BaselineTable {
  identityId: string;
  observations: Int8;
  state: Json<Record<string, unknown>>;
  updatedAt: UpdatedAt;
}

export interface Database {
  teams: TeamTable;
  connectors: ConnectorTable;
  resources: ResourceTable;
  identities: IdentityTable;
  credentials: CredentialTable;
  sessions: SessionTable;
  grants: GrantTable;
  edges: EdgeTable;
  apiTokens: ApiTokenTable;
  auditLog: AuditTable;
  jobs: JobTable;
  events: EventTable;
  deadLetters: DeadLetterTable;
  detections: DetectionTable;
  baselines: BaselineTable;
}

export type IdentityRow = Selectable<IdentityTable>;
export type NewIdentity = Insertable<IdentityTable>;
export type IdentityUpdate = Updateable<IdentityTable>;
export type CredentialRow = Selectable<CredentialTable>;
export type SessionRow = Selectable<SessionTable>;
export type GrantRow = Selectable<GrantTable>;
export type EdgeRow = Selectable<EdgeTable>;
export type TeamRow = Selectable<TeamTable>;
export type ResourceRow = Selectable<ResourceTable>;
export type ConnectorRow = Selectable<ConnectorTable>;
export type ApiTokenRow = Selectable<ApiTokenTable>;
export type AuditRow = Selectable<AuditTable>;
export type JobRow = Selectable<JobTable>;
export type EventRow = Selectable<EventTable>;
export type DeadLetterRow = Selectable<DeadLetterTable>;
export type DetectionRow = Selectable<DetectionTable>;
