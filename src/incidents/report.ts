import { NON_DISRUPTIVE_ACTIONS } from '../domain/playbook.js';
import type { ActionName } from '../domain/action-run.js';
import type { OwaspNhiItem } from '../domain/detection.js';
import { identityDetail } from '../inventory/identities.js';
import type { Executor } from '../store/db.js';
import { listEvidence, verifyEvidenceChain, type EvidenceVerification } from './evidence.js';
import { csfOutcomes, OWASP_NHI_TITLES, type CsfOutcome } from './frameworks.js';
import { incidentMetrics, type IncidentMetrics } from './metrics.js';
import { incidentDetail } from './queries.js';
import { recommendationsFor, type Recommendation } from './recommendations.js';
import { incidentTimeline, type TimelineItem } from './timeline.js';

export interface IncidentReport {
  reportVersion: 1;
  generatedAt: string;
  incident: {
    id: string; title: string; type: string; status: string; severity: string; tlp: string; assignee: string | null; teams: string[];
    identityIds: string[]; escalated: boolean; escalations: unknown[]; openedAt: Date; containedAt: Date | null; closedAt: Date | null; closeReason: string | null; summary: string;
  };
  metrics: IncidentMetrics;
  detections: { id: string; type: string; severity: string; confidence: string; title: string; summary: string; detectedAt: Date; frameworks: { owaspNhi: string[]; nistCsf: string[] } }[];
  actions: {
    id: string; stepId: string; action: string; target: string; performer: string; state: string; attempts: number;
    changes: { op: string; object: string; detail: string }[]; proof: { name: string; passed: boolean; detail: string }[];
    approvals: { subject: string; decision: string; breakGlass: boolean; at: Date; reason: string | null }[]; verifiedAt: Date | null; error: string | null;
  }[];
  timeline: TimelineItem[];
  evidence: { verification: EvidenceVerification; items: { seq: number; id: string; kind: string; title: string; ref: string | null; contentDigest: string; prevHash: string; hash: string; collectedBy: string; collectedAt: Date }[] };
  blastRadius: { identityId: string; identities: number; sessions: number; resources: number; safeToRevoke: boolean; consumers: unknown[]; takenAt: Date | null } | null;
  tasks: { id: string; team: string | null; kind: string; title: string; status: string; doneBy: string | null }[];
  recommendations: Recommendation[];
  frameworks: { owaspNhi: { id: string; title: string }[]; nistCsf: CsfOutcome[] };
}

/** Everything an incident report says, built from what Cordon recorded (SPEC §3.5). */
export async function incidentReport(db: Executor, id: string, now = new Date()): Promise<IncidentReport> {
  const detail = await incidentDetail(db, id);
  const [timeline, evidence, identities] = await Promise.all([
    incidentTimeline(db, id),
    listEvidence(db, id),
    Promise.all(detail.identityIds.map((identityId) => identityDetail(db, identityId).catch(() => undefined))),
  ]);
  const verification = verifyEvidenceChain(evidence);
  const approvalsOf = (runId: string) => detail.approvals.filter((a) => a.runId === runId)
    .map((a) => ({ subject: a.subject, decision: a.decision, breakGlass: a.breakGlass, at: a.at, reason: a.reason }));
  const actions = detail.actions.map((run) => ({
    id: run.id, stepId: run.stepId, action: run.action, target: run.targetLabel, performer: run.performer, state: run.state, attempts: run.attempts,
    changes: ((run.plan as { changes?: IncidentReport['actions'][number]['changes'] } | null)?.changes) ?? [],
    proof: ((run.verification as { checks?: IncidentReport['actions'][number]['proof'] } | null)?.checks) ?? [],
    approvals: approvalsOf(run.id), verifiedAt: run.verifiedAt, error: run.error,
  }));
  const owasp = [...new Set(detail.detections.flatMap((d) => (d.frameworks as { owaspNhi: string[] }).owaspNhi))].sort() as OwaspNhiItem[];
  const radius = detail.blastRadius as { identityId: string; identities: number; sessions: number; resources: unknown[]; revocationImpact: { safeToRevoke: boolean; consumers: unknown[] } } | null;
  return {
    reportVersion: 1,
    generatedAt: now.toISOString(),
    incident: {
      id: detail.id, title: detail.title, type: detail.type, status: detail.status, severity: detail.severity, tlp: detail.tlp, assignee: detail.assignee,
      teams: detail.teams, identityIds: detail.identityIds, escalated: detail.escalated, escalations: detail.escalations, openedAt: detail.openedAt,
      containedAt: detail.containedAt, closedAt: detail.closedAt, closeReason: detail.closeReason, summary: detail.summary,
    },
    metrics: incidentMetrics(detail, detail.actions),
    detections: detail.detections.map((d) => ({
      id: d.id, type: d.type, severity: d.severity, confidence: d.confidence, title: d.title, summary: d.summary, detectedAt: d.detectedAt,
      frameworks: d.frameworks as { owaspNhi: string[]; nistCsf: string[] },
    })),
    actions,
    timeline,
    evidence: {
      verification,
      items: evidence.map(({ content: _content, ...item }) => item),
    },
    blastRadius: radius ? {
      identityId: radius.identityId, identities: radius.identities, sessions: radius.sessions, resources: radius.resources.length,
      safeToRevoke: radius.revocationImpact.safeToRevoke, consumers: radius.revocationImpact.consumers, takenAt: detail.blastRadiusAt,
    } : null,
    tasks: detail.tasks.map((t) => ({ id: t.id, team: t.team, kind: t.kind, title: t.title, status: t.status, doneBy: t.doneBy })),
    recommendations: identities.filter((i): i is NonNullable<typeof i> => !!i).flatMap((i) => recommendationsFor({
      id: i.id, provider: i.provider, connectorId: i.connectorId, owners: i.owners, grants: i.grants,
      credentials: i.credentials.map((c) => ({ ...c, sharedWith: c.sharedWith })),
    }, now.getTime())),
    frameworks: {
      owaspNhi: owasp.map((item) => ({ id: item, title: OWASP_NHI_TITLES[item] })),
      nistCsf: csfOutcomes({
        detections: detail.detections.map((d) => ({ id: d.id, title: d.title, frameworks: d.frameworks as { nistCsf: string[]; owaspNhi: string[] } })),
        status: detail.status, severity: detail.severity, escalations: detail.escalations,
        playbooks: detail.responses.map((r) => `${r.playbookId}@${r.playbookVersion}`),
        containment: actions.filter((a) => !NON_DISRUPTIVE_ACTIONS.includes(a.action as ActionName)),
        recoveryTasks: detail.tasks.filter((t) => t.kind === 'recovery'),
        evidenceVerified: verification.ok, closeReason: detail.closeReason,
      }),
    },
  };
}

const duration = (ms: number | null) => {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 120) return `${m.toFixed(1)} min`;
  const h = m / 60;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} days`;
};
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : '—');
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report as Markdown, for people: the same facts as the JSON, in reading order. */
export function reportMarkdown(report: IncidentReport): string {
  const r = report;
  const lines: string[] = [];
  const table = (head: string[], rows: string[][]) => {
    lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`), '');
  };
  lines.push(`**TLP:${r.incident.tlp.toUpperCase()}**`, '', `# Incident report: ${r.incident.title}`, '');
  table(['field', 'value'], [
    ['incident', r.incident.id], ['type', r.incident.type], ['status', r.incident.status], ['severity', r.incident.severity],
    ['identities', r.incident.identityIds.join(', ') || '—'], ['teams', r.incident.teams.join(', ') || '—'], ['assignee', r.incident.assignee ?? '—'],
    ['opened', iso(r.incident.openedAt)], ['contained', iso(r.incident.containedAt)], ['closed', iso(r.incident.closedAt)],
    ['escalated', r.incident.escalated ? r.incident.escalations.map((e) => `${(e as { code: string }).code}: ${(e as { reason: string }).reason}`).join('; ') : 'no'],
    ['report generated', r.generatedAt],
  ]);
  if (r.incident.summary) lines.push(r.incident.summary, '');
  lines.push('## Metrics', '');
  table(['metric', 'value', 'from → to'], [
    ['time to detect', duration(r.metrics.timeToDetectMs), `${iso(r.metrics.firstSeenAt)} → ${iso(r.metrics.detectedAt)}`],
    ['time to contain', duration(r.metrics.timeToContainMs), `${iso(r.metrics.detectedAt)} → ${iso(r.metrics.containedAt)}`],
    ['exposure window', duration(r.metrics.exposureWindowMs), `${iso(r.metrics.firstSeenAt)} → ${iso(r.metrics.invalidatedAt)}`],
  ]);
  lines.push('## Detections', '');
  table(['detected', 'type', 'severity', 'confidence', 'title', 'OWASP NHI', 'NIST CSF'],
    r.detections.map((d) => [iso(d.detectedAt), d.type, d.severity, d.confidence, d.title, d.frameworks.owaspNhi.join(', '), d.frameworks.nistCsf.join(', ')]));
  lines.push('## Actions', '');
  table(['step', 'action', 'target', 'state', 'verified', 'changes', 'proof', 'approvals'], r.actions.map((a) => [
    a.stepId, a.action, a.target, a.state, iso(a.verifiedAt),
    a.changes.map((c) => `${c.op} ${c.object}`).join('; ') || '—',
    a.proof.map((p) => `${p.passed ? '✔' : '✘'} ${p.name}: ${p.detail}`).join('; ') || (a.error ?? '—'),
    a.approvals.map((p) => `${p.decision} by ${p.subject}${p.breakGlass ? ' (break-glass)' : ''}`).join('; ') || '—',
  ]));
  if (r.blastRadius) {
    lines.push('## Blast radius', '', `Of ${r.blastRadius.identityId} (taken ${iso(r.blastRadius.takenAt)}): ${r.blastRadius.identities - 1} other identities, ${r.blastRadius.sessions} live sessions, ${r.blastRadius.resources} resources. Safe to revoke: ${r.blastRadius.safeToRevoke ? 'yes' : 'no'}.`, '');
    const consumers = r.blastRadius.consumers as { identityId: string; relation: string; criticality: string; customerFacing: boolean }[];
    if (consumers.length) table(['consumer', 'relation', 'criticality', 'customer-facing'], consumers.map((c) => [c.identityId, c.relation, c.criticality, c.customerFacing ? 'yes' : 'no']));
  }
  lines.push('## Timeline', '');
  table(['time', 'kind', 'actor', 'what'], r.timeline.map((t) => [iso(t.at), t.kind, t.actor, t.summary]));
  lines.push('## Evidence', '', `Chain: ${r.evidence.verification.ok ? `${r.evidence.verification.checked} items verified` : `BROKEN at ${r.evidence.verification.firstBad?.id}: ${r.evidence.verification.firstBad?.reason}`}. Each hash is SHA-256 over the item's fields and the previous hash (see docs/incidents.md to check them).`, '');
  table(['#', 'kind', 'title', 'content SHA-256', 'hash'], r.evidence.items.map((e) => [String(e.seq), e.kind, e.title, e.contentDigest, e.hash]));
  lines.push('## Tasks and recovery', '');
  table(['team', 'kind', 'task', 'status'], r.tasks.map((t) => [t.team ?? '—', t.kind, t.title, t.status + (t.doneBy ? ` (${t.doneBy})` : '')]));
  lines.push('## Recommendations', '');
  if (r.recommendations.length) for (const rec of r.recommendations) lines.push(`- **${rec.title}** (${rec.identityId}; ${rec.owaspNhi.join(', ')}): ${rec.detail}`);
  else lines.push('None.');
  lines.push('', '## Framework mapping', '', `OWASP NHI Top 10 (2025): ${r.frameworks.owaspNhi.map((o) => `${o.id} ${o.title}`).join('; ') || '—'}`, '');
  table(['NIST CSF 2.0', 'outcome', 'status', 'in this incident'], r.frameworks.nistCsf.map((o) => [o.id, o.title, o.status, o.evidence.join('; ') || '—']));
  return lines.join('\n');
}
