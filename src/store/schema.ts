import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types as Kysely sees them (camelCase; the columns are snake_case and the store's
 * CamelCasePlugin maps them). Each migration that adds a table adds its interface here.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A column the database fills when an insert leaves it out. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type DefaultedJson<T> = ColumnType<T, string | undefined, string>;
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
  criticality: Defaulted<string>;
  attributes: DefaultedJson<Record<string, unknown>>;
  source: Defaulted<string>;
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
  status: Defaulted<string>;
  criticality: Defaulted<string>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  schedule: NullableJson<Record<string, unknown>>;
  attributes: DefaultedJson<Record<string, unknown>>;
  source: Defaulted<string>;
  createdAt: DefaultedTimestamp;
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
  status: Defaulted<string>;
  storedIn: NullableJson<{ kind: string; path: string }>;
  /** Where a rotated value goes (a file, 0600, or a signed webhook); the default file when null. */
  delivery: NullableJson<Record<string, unknown>>;
  /** The credential this one replaced when Cordon rotated it. */
  replaces: ColumnType<string | null, string | null | undefined, string | null>;
  createdAt: DefaultedTimestamp;
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
  status: Defaulted<string>;
  issuedAt: Timestamp;
  expiresAt: Timestamp | null;
  endedAt: Timestamp | null;
  attributes: DefaultedJson<Record<string, unknown>>;
  updatedAt: UpdatedAt;
}

export interface GrantTable {
  id: string;
  identityId: string;
  resourceId: string;
  permissions: ColumnType<string[], string[], string[]>;
  source: Defaulted<string>;
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
  attributes: DefaultedJson<Record<string, unknown>>;
  source: Defaulted<string>;
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
  status: Defaulted<string>;
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

export interface GraphChangeTable {
  seq: Generated<Int8>;
  /** xid8 of the writing transaction, as text. */
  xid: ColumnType<string, never, never>;
  tableName: string;
  ids: string[];
  at: CreatedAt;
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

export interface PolicyVersionTable {
  version: number;
  /** SHA-256 of the canonical documents. */
  digest: string;
  /** `files` (the policy directory) or `api`. */
  origin: string;
  schemaDocument: Json<{ name: string; text: string }>;
  policyDocuments: Json<{ name: string; text: string }[]>;
  entitiesDocument: NullableJson<{ name: string; text: string }>;
  policyIds: Json<string[]>;
  comment: string | null;
  createdBy: string;
  createdAt: CreatedAt;
}

export interface PolicyDecisionTable {
  seq: Generated<Int8>;
  id: string;
  at: Timestamp;
  policyVersion: number;
  principalType: string;
  principalId: string;
  action: string;
  resourceType: string;
  resourceId: string;
  decision: string;
  reasons: Json<string[]>;
  errors: Json<string[]>;
  taskId: string | null;
  /** Who asked: the API token's actor id, or the in-process caller. */
  caller: string;
  /** Names of the facts the caller supplied; their values are not kept (they may be sensitive). */
  contextKeys: Json<string[]>;
  durationUs: number;
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
  graphChanges: GraphChangeTable;
  brokerSigningKeys: BrokerSigningKeyTable;
  brokerIssuers: BrokerIssuerTable;
  brokerTasks: BrokerTaskTable;
  brokerRevocations: BrokerRevocationTable;
  brokerReceivers: BrokerReceiverTable;
  brokerDbCredentials: BrokerDbCredentialTable;
  events: EventTable;
  deadLetters: DeadLetterTable;
  detections: DetectionTable;
  baselines: BaselineTable;
  policyVersions: PolicyVersionTable;
  policyDecisions: PolicyDecisionTable;
  playbookVersions: PlaybookVersionTable;
  incidents: IncidentTable;
  incidentDetections: IncidentDetectionTable;
  incidentTimeline: IncidentTimelineTable;
  incidentTasks: IncidentTaskTable;
  evidenceItems: EvidenceItemTable;
  responses: ResponseTable;
  actionRuns: ActionRunTable;
  actionApprovals: ActionApprovalTable;
  monitoringWatches: MonitoringWatchTable;
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

export interface BrokerSigningKeyTable {
  kid: string;
  alg: string;
  publicJwk: Json<Record<string, unknown>>;
  /** The private JWK sealed (JWE) under the master key; never in clear. */
  privateKeySealed: string;
  createdAt: CreatedAt;
  /** Published in the JWKS from creation; signs from here on. */
  activatesAt: Timestamp;
  /** Set once a newer key takes over: leaves the JWKS then, after every token it signed expired. */
  expiresAt: Timestamp | null;
}

export interface BrokerIssuerTable {
  id: string;
  issuer: string;
  kind: string;
  jwksUri: string | null;
  jwks: NullableJson<{ keys: Record<string, unknown>[] }>;
  audiences: ColumnType<string[], string[], string[]>;
  algorithms: ColumnType<string[], string[], string[]>;
  trustDomain: string | null;
  bindings: Json<Record<string, unknown>[]>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface BrokerTaskTable {
  id: string;
  identityId: string;
  purpose: string;
  status: string;
  createdBy: string;
  createdAt: CreatedAt;
  expiresAt: Timestamp;
  endedAt: Timestamp | null;
  endReason: string | null;
}

export interface BrokerRevocationTable {
  /** Generated always: never written. int8 reads as string (pg) or bigint (PGlite). */
  seq: ColumnType<string | number | bigint, never, never>;
  /** `token` (a jti), `task` (a task id), `quarantine` or `release` (an identity id). */
  kind: string;
  ref: string;
  /** After this the entry changes nothing (the token or task expired) and is pruned. */
  expiresAt: Timestamp;
  at: CreatedAt;
}

export interface BrokerReceiverTable {
  id: string;
  endpoint: string;
  audience: string;
  events: ColumnType<string[], string[], string[]>;
  authorizationSealed: string | null;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface BrokerDbCredentialTable {
  id: string;
  taskId: string;
  identityId: string;
  credentialId: string;
  connectorId: string;
  roleName: string;
  memberOf: ColumnType<string[], string[], string[]>;
  status: string;
  validUntil: Timestamp;
  createdAt: CreatedAt;
  droppedAt: Timestamp | null;
}
export type EventRow = Selectable<EventTable>;
export type DeadLetterRow = Selectable<DeadLetterTable>;
export type DetectionRow = Selectable<DetectionTable>;
export type PolicyVersionRow = Selectable<PolicyVersionTable>;
export type PolicyDecisionRow = Selectable<PolicyDecisionTable>;

export interface PlaybookVersionTable {
  id: string;
  version: number;
  /** SHA-256 of the playbook's canonical JSON: the same document is stored once. */
  digest: string;
  title: string;
  /** `files` (the playbook directory) or `api`. */
  origin: string;
  document: Json<Record<string, unknown>>;
  createdBy: string;
  createdAt: CreatedAt;
}

export interface IncidentTable {
  id: string;
  title: string;
  /** The detection type that opened it, or `manual`. */
  type: Defaulted<string>;
  summary: Defaulted<string>;
  /** Blast radius of its first identity, when it opened or was last refreshed. */
  blastRadius: NullableJson<Record<string, unknown>>;
  blastRadiusAt: Timestamp | null;
  status: string;
  severity: string;
  identityIds: ColumnType<string[], string[] | undefined, string[]>;
  assignee: string | null;
  teams: ColumnType<string[], string[] | undefined, string[]>;
  tlp: Defaulted<string>;
  escalated: Defaulted<boolean>;
  escalations: DefaultedJson<{ at: string; reason: string; code: string; runId?: string }[]>;
  openedBy: string;
  openedAt: DefaultedTimestamp;
  /** The earliest evidence of its detections (a leak first seen). */
  firstSeenAt: Timestamp | null;
  /** The first detection's time. */
  detectedAt: Timestamp | null;
  containedAt: Timestamp | null;
  closedAt: Timestamp | null;
  closeReason: string | null;
  updatedAt: UpdatedAt;
}

export interface IncidentDetectionTable {
  incidentId: string;
  detectionId: string;
  linkedAt: CreatedAt;
}

export interface IncidentTimelineTable {
  seq: Generated<Int8>;
  incidentId: string;
  at: DefaultedTimestamp;
  kind: string;
  actor: string;
  summary: string;
  ref: string | null;
  data: DefaultedJson<Record<string, unknown>>;
}

export interface IncidentTaskTable {
  id: string;
  incidentId: string;
  team: string | null;
  title: string;
  detail: Defaulted<string>;
  kind: string;
  status: Defaulted<string>;
  source: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
  doneBy: string | null;
  doneAt: Timestamp | null;
}

export interface EvidenceItemTable {
  seq: Int8;
  id: string;
  incidentId: string;
  kind: string;
  title: string;
  ref: string | null;
  content: Json<unknown>;
  contentDigest: string;
  prevHash: string;
  hash: string;
  collectedBy: string;
  collectedAt: Timestamp;
}

export interface ResponseTable {
  id: string;
  detectionId: string | null;
  incidentId: string;
  playbookId: string;
  playbookVersion: number;
  identityId: string | null;
  status: string;
  requestedBy: string;
  requestedBySubject: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
  finishedAt: Timestamp | null;
}

export interface ActionRunTable {
  id: string;
  responseId: string;
  incidentId: string;
  seq: number;
  tier: string;
  stepId: string;
  action: string;
  performer: string;
  target: Json<Record<string, unknown>>;
  targetLabel: string;
  targetKey: string;
  params: DefaultedJson<Record<string, unknown>>;
  state: string;
  approval: NullableJson<Record<string, unknown>>;
  plan: NullableJson<Record<string, unknown>>;
  planDigest: string | null;
  idempotencyKey: string;
  attempts: ColumnType<number, number | undefined, number>;
  maxAttempts: number;
  timeoutMs: number;
  continueOnError: Defaulted<boolean>;
  nextAttemptAt: DefaultedTimestamp;
  leaseOwner: string | null;
  leaseUntil: Timestamp | null;
  /** rotate_credential: the new secret, sealed (JWE) until the response ends; never in clear. */
  secretSealed: string | null;
  secretFingerprint: string | null;
  output: NullableJson<Record<string, unknown>>;
  verification: NullableJson<Record<string, unknown>>;
  error: string | null;
  errorCode: string | null;
  requestedBy: string;
  requestedBySubject: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
  startedAt: Timestamp | null;
  finishedAt: Timestamp | null;
  verifiedAt: Timestamp | null;
}

export interface ActionApprovalTable {
  id: string;
  runId: string;
  decision: string;
  subject: string;
  actor: string;
  role: string;
  planDigest: string;
  reason: string | null;
  breakGlass: Defaulted<boolean>;
  at: CreatedAt;
}

export interface MonitoringWatchTable {
  id: string;
  identityId: string;
  level: string;
  reason: string;
  runId: string | null;
  createdBy: string;
  createdAt: CreatedAt;
  until: Timestamp;
}

export type IncidentRow = Selectable<IncidentTable>;
export type ResponseRow = Selectable<ResponseTable>;
export type ActionRunRow = Selectable<ActionRunTable>;
export type ActionApprovalRow = Selectable<ActionApprovalTable>;
export type EvidenceItemRow = Selectable<EvidenceItemTable>;
