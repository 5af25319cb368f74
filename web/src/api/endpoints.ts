/**
 * One function per API route the console calls, and the query keys under which their answers are
 * cached. The first element of every key names its area: live updates invalidate by area
 * (see live/invalidation.ts).
 */
import { getJson, postJson, request, withQuery } from './client';
import type {
  ActionFilter, ActionRun, AuditFilter, AuditRecord, AuditVerification, AuthorizeRequest, BlastRadius, Decision, DecisionFilter,
  DecisionRecord, DetectionDetail, DetectionFilter, Detection, IdentityDetail, IdentityFilter, IdentitySummary, Incident,
  IncidentDetail, IncidentFilter, Me, Page, PlaybookSummary, PolicyVersion, ReportFormat, ServingPolicies,
} from './types';

export type Area = 'identities' | 'detections' | 'incidents' | 'actions' | 'playbooks' | 'policies' | 'audit' | 'audit-verify';

export const keys = {
  identities: (filter: IdentityFilter) => ['identities', 'list', filter] as const,
  identity: (id: string) => ['identities', 'detail', id] as const,
  blastRadius: (id: string) => ['identities', 'blast-radius', id] as const,
  detections: (filter: DetectionFilter) => ['detections', 'list', filter] as const,
  detection: (id: string) => ['detections', 'detail', id] as const,
  incidents: (filter: IncidentFilter) => ['incidents', 'list', filter] as const,
  incident: (id: string) => ['incidents', 'detail', id] as const,
  actions: (filter: ActionFilter) => ['actions', 'list', filter] as const,
  playbooks: () => ['playbooks'] as const,
  audit: (filter: AuditFilter) => ['audit', 'list', filter] as const,
  auditVerification: () => ['audit-verify'] as const,
  servingPolicies: () => ['policies', 'serving'] as const,
  policyVersions: () => ['policies', 'versions'] as const,
  decisions: (filter: DecisionFilter) => ['policies', 'decisions', filter] as const,
};

const id = encodeURIComponent;

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
  incident: (incidentId: string) => getJson<IncidentDetail>(`/v1/incidents/${id(incidentId)}`),
  /** The report as a file: fetched with the token (never put in a URL), handed to the browser as a blob. */
  incidentReport: async (incidentId: string, format: ReportFormat) => {
    const response = await request(withQuery(`/v1/incidents/${id(incidentId)}/report`, { format }), { accept: format === 'md' ? 'text/markdown' : 'application/json' });
    return response.blob();
  },

  actions: (filter: ActionFilter) => getJson<{ items: ActionRun[] }>('/v1/actions', { ...filter }),
  /** Approves exactly the plan that was shown: the server refuses a digest that no longer matches. */
  approveAction: (actionId: string, planDigest: string, reason?: string) =>
    postJson<ActionRun>(`/v1/actions/${id(actionId)}/approve`, reason ? { planDigest, reason } : { planDigest }),
  denyAction: (actionId: string, reason: string) => postJson<ActionRun>(`/v1/actions/${id(actionId)}/deny`, { reason }),

  playbooks: () => getJson<{ items: PlaybookSummary[] }>('/v1/playbooks'),
  validatePlaybook: async (yaml: string) => (await request('/v1/playbooks/validate', { method: 'POST', yaml })).json() as Promise<unknown>,
  dryRunPlaybook: (detectionId: string) => postJson<unknown>('/v1/playbooks/dry-run', { detectionId }),
};
