/**
 * What the API answers, as the console reads it. The routes that exist are typed from their
 * schemas (src/api/routes); incidents, actions and playbooks follow the response engine's planned
 * contract, kept here alone so that a change to it is made in one place.
 */
import type { ActionRunState } from '../../../src/domain/action-run.js';
import type { Confidence, Severity } from '../../../src/domain/detection.js';
import type { EdgeKind, NodeRef, NodeType } from '../../../src/domain/graph.js';
import type { Criticality } from '../../../src/domain/identity.js';
import type { ApiRole } from '../../../src/domain/roles.js';

/** RFC 9457 problem details, as every API error is sent. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  errors?: { path: string; message: string; source?: string; in?: string }[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Me {
  subject: string;
  role: ApiRole;
  tokenId: string;
}

// Identities (GET /v1/identities, /v1/identities/:id, /v1/identities/:id/blast-radius)

interface IdentityFields {
  id: string;
  kind: string;
  name: string;
  provider: string;
  connectorId: string | null;
  externalRef: string | null;
  environment: string;
  status: string;
  criticality: string;
  tags: string[];
  schedule: Record<string, unknown> | null;
  attributes: Record<string, unknown>;
  source: string;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
}

export interface IdentitySummary extends IdentityFields {
  owners: { team: string | null; backup: string | null };
  oldestCredentialAt: string | null;
}

export interface IdentityFilter {
  q?: string;
  kind?: string;
  environment?: string;
  owner?: string;
  status?: string;
  tag?: string;
  cursor?: string;
  limit?: number;
}

export interface Credential {
  id: string;
  name: string;
  type: string;
  fingerprint: string | null;
  externalRef: string | null;
  status: string;
  storedIn: { kind: string; path: string } | null;
  createdAt: string;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  updatedAt: string;
  ageDays: number;
  sharedWith: string[];
}

export interface Session {
  id: string;
  identityId: string;
  credentialId: string | null;
  parentSessionId: string | null;
  jti: string | null;
  source: string;
  status: string;
  issuedAt: string;
  expiresAt: string | null;
  endedAt: string | null;
}

export interface Grant {
  id: string;
  resourceId: string;
  resourceName: string;
  resourceCriticality: string;
  permissions: string[];
  source: string;
  grantedAt: string | null;
  lastUsedAt: string | null;
}

export interface GraphEdge {
  kind: EdgeKind;
  from: NodeRef;
  to: NodeRef;
  attributes: Record<string, unknown>;
}

export interface IdentityDetail extends IdentityFields {
  owners: { id: string; name: string; responsibility: string; channel: string | null; role: string }[];
  credentials: Credential[];
  sessions: Session[];
  grants: Grant[];
  edges: GraphEdge[];
}

export interface BlastRadiusNode {
  type: NodeType;
  id: string;
  depth: number;
  via: string;
  from?: NodeRef;
  label: string;
}

export interface BlastRadius {
  start: NodeRef;
  depth: number;
  truncated: boolean;
  nodes: BlastRadiusNode[];
  identities: string[];
  credentials: string[];
  sessions: string[];
  resources: { id: string; name: string; criticality: Criticality; permissions: string[]; through: string[] }[];
  revocationImpact: {
    consumers: { identityId: string; name: string; kind: string; status: string; relation: string; criticality: string; customerFacing: boolean }[];
    safeToRevoke: boolean;
    highestCriticality: Criticality | null;
  };
}

// Detections (GET /v1/detections, /v1/detections/:id)

export interface Detection {
  id: string;
  rule: string;
  type: string;
  severity: Severity;
  confidence: Confidence;
  identityId: string | null;
  credentialId: string | null;
  title: string;
  summary: string;
  evidenceEventIds: string[];
  frameworks: { owaspNhi: string[]; nistCsf: string[] };
  attributes: Record<string, unknown>;
  occurredAt: string;
  detectedAt: string;
}

export interface DetectionFilter {
  type?: string;
  severity?: string;
  confidence?: string;
  identity?: string;
  since?: string;
  cursor?: string;
  limit?: number;
}

export interface EvidenceEvent {
  id: string;
  format: string;
  source: string;
  type: string;
  time: string;
  action: string | null;
  target: string | null;
  outcome: string;
  sourceIp: string | null;
  identityIds: string[];
  fingerprints: string[];
  raw: unknown;
}

export interface DetectionDetail extends Detection {
  evidence: EvidenceEvent[];
}

// Audit (GET /v1/audit, /v1/audit/verify, and the stream's `audit` events)

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  actorSubject: string;
  action: string;
  subject: string;
  payload: Record<string, unknown>;
  payloadDigest: string;
  prevHash: string;
  hash: string;
}

/** An `audit` event of GET /v1/stream: the record without its chain fields but its hash. */
export type AuditEvent = Pick<AuditRecord, 'seq' | 'at' | 'actor' | 'actorSubject' | 'action' | 'subject' | 'payload' | 'hash'>;

export interface AuditFilter {
  after?: number;
  action?: string;
  subject?: string;
  limit?: number;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  headSeq: number | null;
  headHash: string;
  firstBad?: { seq: number; reason: string };
}

// Policy (POST /v1/authorize, GET /v1/policies, /v1/policies/versions, /v1/policies/decisions)

export interface EntityRef {
  type: string;
  id: string;
}

export interface AuthorizeRequest {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context?: Record<string, unknown>;
  task?: { id: string };
}

export interface Decision {
  decision: 'allow' | 'deny';
  reasons: string[];
  errors: string[];
  decisionId: string;
  policyVersion: number;
}

export interface ServingPolicies {
  version: number;
  digest: string;
  policies: { id: string; source: string; text: string }[];
}

export interface PolicyVersion {
  version: number;
  digest: string;
  origin: string;
  policyIds: string[];
  documents: string[];
  comment: string | null;
  createdBy: string;
  createdAt: string;
}

export interface DecisionRecord {
  seq: number;
  id: string;
  at: string;
  policyVersion: number;
  principal: EntityRef;
  action: string;
  resource: EntityRef;
  decision: string;
  reasons: string[];
  errors: string[];
  taskId?: string;
  caller: string;
  durationUs: number;
}

export interface DecisionFilter {
  principal?: string;
  decision?: string;
  action?: string;
  before?: number;
  limit?: number;
}

// Incidents, action runs, playbooks: the response engine's planned contract.

export const INCIDENT_STATUSES = ['new', 'triage', 'containing', 'contained', 'recovering', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface Incident {
  id: string;
  title: string;
  status: IncidentStatus;
  severity: Severity;
  identityIds: string[];
  assignee: string | null;
  teams: string[];
  tlp: string;
  escalated: boolean;
  openedAt: string;
  updatedAt: string;
}

export interface IncidentFilter {
  status?: string;
  severity?: string;
  cursor?: string;
  limit?: number;
}

export interface TimelineEntry {
  at: string;
  kind: string;
  actor: string;
  summary: string;
}

export interface IncidentDetail extends Incident {
  detections: Detection[];
  actions: ActionRun[];
  timeline: TimelineEntry[];
  escalations: unknown[];
}

export interface PlannedChange {
  op: string;
  object: string;
  detail: string;
}

export interface Approval {
  roles: ApiRole[];
  quorum: number;
  approvals: { subject: string; at: string }[];
  timeoutAt: string | null;
  default: string;
  reasons: string[];
}

export interface ActionRun {
  id: string;
  incidentId: string | null;
  responseId: string;
  seq: number;
  tier: number;
  stepId: string;
  action: string;
  targetLabel: string;
  performer: string;
  state: ActionRunState;
  plan: { changes: PlannedChange[]; reversible: boolean };
  planDigest: string;
  approval: Approval | null;
  verification: { verified: boolean; checks: { name: string; passed: boolean; detail: string }[] } | null;
  error: string | null;
  attempts: number;
  requestedBy: string;
  updatedAt: string;
}

export interface ActionFilter {
  state?: string;
  incident?: string;
}

export interface PlaybookSummary {
  id: string;
  version: number;
  title: string;
  match: Record<string, unknown>;
  tiers: unknown[];
}

export type ReportFormat = 'md' | 'json';
