/**
 * What the API answers, as the console reads it: one place for every response shape, typed from
 * the routes' schemas (src/api/routes) and the domain vocabulary (src/domain), so a change to the
 * API is made here once.
 */
import type { ActionName, ActionRunState } from '../../../src/domain/action-run.js';
import type { Confidence, DetectionType, Severity } from '../../../src/domain/detection.js';
import type { EdgeKind, NodeRef, NodeType } from '../../../src/domain/graph.js';
import type { Criticality } from '../../../src/domain/identity.js';
import type { IncidentStatus, TaskStatus, TlpLabel } from '../../../src/domain/incident.js';
import type { ApprovalDefault, ApproverRole, GuardCondition, GuardEffect, TargetSelector } from '../../../src/domain/playbook.js';
import type { IdentityReadiness, ReadinessChecks, ReadinessSummary } from '../../../src/domain/readiness.js';
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

// Incidents (GET /v1/incidents, /v1/incidents/:id and their writes; src/api/routes/incidents.ts)

export interface Escalation {
  at: string;
  code: string;
  reason: string;
  runId?: string;
}

export interface Incident {
  id: string;
  title: string;
  /** The detection type that opened it, or `manual`. */
  type: string;
  summary: string;
  status: IncidentStatus;
  severity: Severity;
  identityIds: string[];
  assignee: string | null;
  teams: string[];
  tlp: TlpLabel;
  escalated: boolean;
  escalations: Escalation[];
  openedBy: string;
  openedAt: string;
  firstSeenAt: string | null;
  detectedAt: string | null;
  containedAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  updatedAt: string;
}

export interface IncidentFilter {
  status?: string;
  /** `true`: only incidents that are not closed. */
  open?: string;
  /** At least this severity. */
  severity?: string;
  identity?: string;
  team?: string;
  escalated?: string;
  cursor?: string;
  limit?: number;
}

export interface IncidentMetrics {
  firstSeenAt: string | null;
  detectedAt: string | null;
  containedAt: string | null;
  /** When the exposed material was first proven unusable. */
  invalidatedAt: string | null;
  timeToDetectMs: number | null;
  timeToContainMs: number | null;
  exposureWindowMs: number | null;
}

export type RevocationImpact = BlastRadius['revocationImpact'];

/** The blast radius of the incident's first identity, as it was when the snapshot was taken. */
export interface BlastRadiusSnapshot {
  identityId: string;
  depth: number;
  truncated: boolean;
  /** Counts, where the live route lists ids. */
  identities: number;
  credentials: number;
  sessions: number;
  resources: BlastRadius['resources'];
  revocationImpact: RevocationImpact;
  nodes: BlastRadiusNode[];
}

export interface IncidentDetection {
  id: string;
  type: string;
  rule: string;
  severity: Severity;
  confidence: Confidence;
  title: string;
  summary: string;
  identityId: string | null;
  credentialId: string | null;
  frameworks: { owaspNhi: string[]; nistCsf: string[] };
  occurredAt: string;
  detectedAt: string;
  evidenceEventIds: string[];
  linkedAt: string;
}

export interface IncidentResponse {
  id: string;
  detectionId: string | null;
  playbookId: string;
  playbookVersion: number;
  status: string;
  requestedBy: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface IncidentTask {
  id: string;
  team: string | null;
  title: string;
  detail: string;
  kind: string;
  status: TaskStatus;
  source: string;
  createdAt: string;
  updatedAt: string;
  doneBy: string | null;
  doneAt: string | null;
}

export interface TimelineEntry {
  at: string;
  /** `event`, `detection`, then what was recorded: `incident.opened`, `action.verified`, `note.added`, … */
  kind: string;
  actor: string;
  summary: string;
  ref: string | null;
  data: Record<string, unknown>;
}

export interface EvidenceItem {
  seq: number;
  id: string;
  kind: string;
  title: string;
  ref: string | null;
  /** SHA-256 of the item's content (RFC 8785 JSON). */
  contentDigest: string;
  prevHash: string;
  /** SHA-256 over the item's fields and the previous hash. */
  hash: string;
  collectedBy: string;
  collectedAt: string;
}

export interface EvidenceVerification {
  ok: boolean;
  checked: number;
  firstBad?: { id: string; seq: number; reason: string };
}

export interface IncidentDetail extends Incident {
  metrics: IncidentMetrics;
  blastRadius: BlastRadiusSnapshot | null;
  blastRadiusAt: string | null;
  detections: IncidentDetection[];
  responses: IncidentResponse[];
  actions: ActionRun[];
  tasks: IncidentTask[];
  timeline: TimelineEntry[];
  evidence: EvidenceItem[];
}

export interface IncidentStatusChange {
  status: IncidentStatus;
  reason?: string;
  force?: boolean;
}

export type ReportFormat = 'md' | 'json';

// Action runs (GET /v1/actions, /v1/actions/:id, approve, deny; src/api/routes/actions.ts)

export interface PlannedChange {
  op: string;
  object: string;
  detail: string;
}

export interface ActionPlan {
  changes: PlannedChange[];
  reversible: boolean;
}

export interface ApprovalDecision {
  decision: string;
  subject: string;
  role: string;
  planDigest: string;
  reason: string | null;
  breakGlass: boolean;
  at: string;
}

/** The approval a step needs, resolved from the playbook and its guards. */
export interface ApprovalRequirement {
  roles: ApproverRole[];
  quorum: number;
  timeoutMs: number;
  default: ApprovalDefault;
  reasons: string[];
}

export interface Approval extends ApprovalRequirement {
  timeoutAt?: string;
  approvals: ApprovalDecision[];
}

export interface ActionRun {
  id: string;
  incidentId: string;
  responseId: string;
  seq: number;
  /** The playbook tier's name. */
  tier: string;
  stepId: string;
  action: ActionName;
  performer: string;
  targetLabel: string;
  identityId: string | null;
  params: Record<string, unknown>;
  state: ActionRunState;
  /** The exact diff: what an approver approves. */
  plan: ActionPlan | null;
  planDigest: string | null;
  approval: Approval | null;
  verification: { verified: boolean; checks: { name: string; passed: boolean; detail: string }[] } | null;
  output: unknown;
  error: string | null;
  errorCode: string | null;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  verifiedAt: string | null;
}

/** What approve and deny answer: whether the step is decided (a quorum may need more approvers). */
export interface Decided {
  decided: boolean;
  action: ActionRun;
}

export interface ActionFilter {
  state?: string;
  incident?: string;
  cursor?: string;
  limit?: number;
}

// Playbooks (GET /v1/playbooks, /v1/playbooks/:id, validate, dry run; src/api/routes/playbooks.ts)

export interface PlaybookGuard {
  when: GuardCondition;
  then: GuardEffect;
  above?: number;
}

export interface PlaybookStep {
  id: string;
  tier: string;
  action: ActionName;
  target: TargetSelector;
  params: Record<string, unknown>;
  /** `auto`: the step runs without asking, unless a guard requires approval. */
  approval: Omit<ApprovalRequirement, 'reasons'> | 'auto';
  guards: PlaybookGuard[];
  owner?: string;
  continueOnError: boolean;
  timeoutMs: number;
  maxAttempts: number;
}

export interface Playbook {
  id: string;
  version: number;
  title: string;
  description?: string;
  priority: number;
  origin: string;
  digest: string;
  createdAt: string;
  match: Record<string, unknown>;
  escalation: Record<string, unknown>;
  steps: PlaybookStep[];
  /** The document as it was written. */
  document: Record<string, unknown>;
}

export interface PlaybookVersion {
  version: number;
  digest: string;
  origin: string;
  createdBy: string;
  createdAt: string;
}

export interface PlaybookValidation {
  valid: true;
  id: string;
  digest: string;
  steps: number;
}

/** A dry run is for a stored detection, or for one described; `playbook` picks one instead of the one that matches. */
export type DryRunRequest =
  | { detectionId: string; playbook?: string }
  | { type: DetectionType; severity: Severity; confidence: Confidence; identityId: string | null; credentialId?: string; playbook?: string };

export type Disposition = 'run' | 'skip' | 'escalate' | 'no_target' | 'no_performer';

export interface GuardResult {
  when: GuardCondition;
  then: GuardEffect;
  tripped: boolean;
  detail: string;
}

export interface DryRunStep {
  seq: number;
  tier: string;
  stepId: string;
  action: ActionName;
  selector: TargetSelector;
  performer: string | null;
  targetLabel: string;
  identityId: string | null;
  params: Record<string, unknown>;
  owner: string | null;
  approval: ApprovalRequirement | null;
  guards: GuardResult[];
  disposition: Disposition;
  reason: string | null;
  /** What the step would change now, read from its system; or why it could not be read. */
  diff: ActionPlan | { error: string; code: string } | null;
}

export interface DryRun {
  playbook: { id: string; version: number; title: string };
  detection: { id: string | null; type: string; severity: Severity; confidence: Confidence; title: string; identityId: string | null; credentialId: string | null };
  runs: DryRunStep[];
  escalations: { code: string; reason: string; stepId?: string }[];
}

// Metrics and readiness (GET /v1/metrics/incidents, /v1/readiness, /v1/identities/:id/readiness)

export interface Distribution {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

export interface MetricsPoint {
  incidentId: string;
  openedAt: string;
  severity: Severity;
  timeToDetectMs: number | null;
  timeToContainMs: number | null;
  exposureWindowMs: number | null;
}

export interface OverallMetrics {
  incidents: { total: number; open: number; escalated: number; byStatus: Partial<Record<IncidentStatus, number>>; openBySeverity: Partial<Record<Severity, number>> };
  actionsAwaitingApproval: number;
  timeToDetect: Distribution;
  timeToContain: Distribution;
  exposureWindow: Distribution;
  /** The latest incidents' figures, oldest first. */
  series: MetricsPoint[];
}

export type { IdentityReadiness, ReadinessChecks };

export interface Readiness {
  summary: ReadinessSummary;
  items: IdentityReadiness[];
}
