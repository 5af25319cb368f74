/**
 * One function per API route the console calls, and the query keys under which their answers are
 * cached. The first element of every key names its area: live updates invalidate by area
 * (see live/invalidation.ts).
 */
import { getJson, postJson, request, sendJson, withQuery } from './client';
import type {
  ActionFilter, ActionRun, AuditFilter, AuditRecord, AuditVerification, AuthorizeRequest, BlastRadius, Decided, Decision, DecisionFilter,
  DecisionRecord, DetectionDetail, DetectionFilter, Detection, DryRun, DryRunRequest, EvidenceVerification, IdentityDetail, IdentityFilter,
  IdentityReadiness, IdentitySummary, Incident, IncidentDetail, IncidentFilter, IncidentStatusChange, Me, OverallMetrics, Page, Playbook,
  PlaybookValidation, PlaybookVersion, PolicyVersion, Readiness, ReportFormat, ServingPolicies,
} from './types';

export type { Area } from './areas';

export const keys = {
  identities: (filter: IdentityFilter) => ['identities', 'list', filter] as const,
  identity: (id: string) => ['identities', 'detail', id] as const,
  blastRadius: (id: string) => ['identities', 'blast-radius', id] as const,
  detections: (filter: DetectionFilter) => ['detections', 'list', filter] as const,
  detection: (id: string) => ['detections', 'detail', id] as const,
  incidents: (filter: IncidentFilter) => ['incidents', 'list', filter] as const,
  incident: (id: string) => ['incidents', 'detail', id] as const,
  evidenceVerification: (id: string) => ['incidents', 'evidence-verify', id] as const,
  incidentMetrics: () => ['incidents', 'metrics'] as const,
  actions: (filter: ActionFilter) => ['actions', 'list', filter] as const,
  playbooks: () => ['playbooks', 'list'] as const,
  playbook: (id: string, version?: number) => ['playbooks', 'detail', id, version ?? 'latest'] as const,
  readiness: () => ['readiness', 'all'] as const,
  identityReadiness: (id: string) => ['readiness', 'identity', id] as const,
  audit: (filter: AuditFilter) => ['audit', 'list', filter] as const,
  auditVerification: () => ['audit-verify'] as const,
  servingPolicies: () => ['policies', 'serving'] as const,
  policyVersions: () => ['policies', 'versions'] as const,
  decisions: (filter: DecisionFilter) => ['policies', 'decisions', filter] as const,
};

const id = encodeURIComponent;
const incidentPath = (incidentId: string) => `/v1/incidents/${id(incidentId)}`;

export const api = {
  me: (token?: string) => getJson<Me>('/v1/me', undefined, token ? { token } : {}),

  identities: (filter: IdentityFilter) => getJson<Page<IdentitySummary>>('/v1/identities', { ...filter }),
  identity: (identityId: string) => getJson<IdentityDetail>(`/v1/identities/${id(identityId)}`),
  blastRadius: (identityId: string, depth = 6, limit = 500) =>
    getJson<BlastRadius>(`/v1/identities/${id(identityId)}/blast-radius`, { depth, limit }),

  detections: (filter: DetectionFilter) => getJson<Page<Detection>>('/v1/detections', { ...filter }),
  detection: (detectionId: string) => getJson<DetectionDetail>(`/v1/detections/${id(detectionId)}`),

  audit: (filter: AuditFilter) => getJson<{ items: AuditRecord[]; nextAfter: number | null }>('/v1/audit', { ...filter }),
  verifyAudit: () => getJson<AuditVerification>('/v1/audit/verify'),

  servingPolicies: () => getJson<ServingPolicies>('/v1/policies'),
  policyVersions: () => getJson<{ items: PolicyVersion[] }>('/v1/policies/versions'),
  decisions: (filter: DecisionFilter) => getJson<{ items: DecisionRecord[]; nextBefore: number | null }>('/v1/policies/decisions', { ...filter }),
  authorize: (body: AuthorizeRequest) => postJson<Decision>('/v1/authorize', body),

  incidents: (filter: IncidentFilter) => getJson<Page<Incident>>('/v1/incidents', { ...filter }),
  incident: (incidentId: string) => getJson<IncidentDetail>(incidentPath(incidentId)),
  setIncidentStatus: (incidentId: string, change: IncidentStatusChange) => postJson<{ ok: true }>(`${incidentPath(incidentId)}/status`, change),
  addNote: (incidentId: string, text: string) => postJson<{ id: string }>(`${incidentPath(incidentId)}/notes`, { text }),
  setTaskStatus: (incidentId: string, taskId: string, status: 'open' | 'done' | 'cancelled') =>
    sendJson<{ ok: true }>('PATCH', `${incidentPath(incidentId)}/tasks/${id(taskId)}`, { status }),
  snapshotBlastRadius: (incidentId: string) => postJson<{ blastRadius: unknown }>(`${incidentPath(incidentId)}/blast-radius`, {}),
  verifyEvidence: (incidentId: string) => getJson<EvidenceVerification>(`${incidentPath(incidentId)}/evidence/verify`),
  /** The evidence chain with every item's content, as a file for a third party to check. */
  evidenceExport: async (incidentId: string) => (await request(`${incidentPath(incidentId)}/evidence`)).blob(),
  /** The report as a file: fetched with the token (never put in a URL), handed to the browser as a blob. */
  incidentReport: async (incidentId: string, format: ReportFormat) => {
    const response = await request(withQuery(`${incidentPath(incidentId)}/report`, { format }), { accept: format === 'md' ? 'text/markdown' : 'application/json' });
    return response.blob();
  },
  incidentMetrics: () => getJson<OverallMetrics>('/v1/metrics/incidents'),

  actions: (filter: ActionFilter) => getJson<Page<ActionRun>>('/v1/actions', { ...filter }),
  /** Approves exactly the plan that was shown: the server refuses a digest that no longer matches. */
  approveAction: (actionId: string, body: { planDigest: string; reason?: string; breakGlass?: boolean }) =>
    postJson<Decided>(`/v1/actions/${id(actionId)}/approve`, body),
  denyAction: (actionId: string, reason: string) => postJson<Decided>(`/v1/actions/${id(actionId)}/deny`, { reason }),

  playbooks: () => getJson<{ items: Playbook[] }>('/v1/playbooks'),
  playbook: (playbookId: string, version?: number) =>
    getJson<{ playbook: Playbook; versions: PlaybookVersion[] }>(`/v1/playbooks/${id(playbookId)}`, { version }),
  /** Sent as YAML text, so the API's errors name the line and column in it. */
  validatePlaybook: async (yaml: string) => (await request('/v1/playbooks/validate', { method: 'POST', yaml })).json() as Promise<PlaybookValidation>,
  dryRunPlaybook: (body: DryRunRequest) => postJson<DryRun>('/v1/playbooks/dry-run', body),

  readiness: () => getJson<Readiness>('/v1/readiness'),
  identityReadiness: (identityId: string) => getJson<IdentityReadiness>(`/v1/identities/${id(identityId)}/readiness`),
};
