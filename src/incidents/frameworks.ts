import type { OwaspNhiItem } from '../domain/detection.js';

/** OWASP Non-Human Identities Top 10 (2025). */
export const OWASP_NHI_TITLES: Record<OwaspNhiItem, string> = {
  NHI1: 'Improper Offboarding',
  NHI2: 'Secret Leakage',
  NHI3: 'Vulnerable Third-Party NHI',
  NHI4: 'Insecure Authentication',
  NHI5: 'Overprivileged NHI',
  NHI6: 'Insecure Cloud Deployment Configurations',
  NHI7: 'Long-Lived Secrets',
  NHI8: 'Environment Isolation',
  NHI9: 'NHI Reuse',
  NHI10: 'Human Use of NHI',
};

/** NIST CSF 2.0 subcategories an incident report speaks to (Detect, Respond, Recover). */
export const CSF_TITLES: Record<string, string> = {
  'DE.CM-01': 'Networks and network services are monitored to find potentially adverse events',
  'DE.CM-03': 'Personnel activity and technology usage are monitored to find potentially adverse events',
  'DE.CM-06': 'External service provider activities and services are monitored to find potentially adverse events',
  'DE.CM-09': 'Computing hardware and software, runtime environments, and their data are monitored to find potentially adverse events',
  'DE.AE-02': 'Potentially adverse events are analyzed to better understand associated activities',
  'DE.AE-03': 'Information is correlated from multiple sources',
  'PR.AA-01': 'Identities and credentials for authorized users, services, and hardware are managed by the organization',
  'PR.AA-05': 'Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed',
  'RS.MA-01': 'The incident response plan is executed in coordination with relevant third parties once an incident is declared',
  'RS.MA-02': 'Incident reports are triaged and validated',
  'RS.MA-03': 'Incidents are categorized and prioritized',
  'RS.MA-04': 'Incidents are escalated or elevated as needed',
  'RS.MI-01': 'Incidents are contained',
  'RS.MI-02': 'Incidents are eradicated',
  'RC.RP-01': 'The recovery portion of the incident response plan is executed once initiated from the incident response process',
  'RC.RP-02': 'Recovery actions are selected, scoped, prioritized, and performed',
  'RC.RP-05': 'The integrity of restored assets is verified, systems and services are restored, and normal operating status is confirmed',
  'RC.RP-06': 'The end of incident recovery is declared based on criteria, and incident-related documentation is completed',
};

export type OutcomeStatus = 'met' | 'in_progress' | 'not_met' | 'not_applicable';

export interface CsfOutcome {
  id: string;
  title: string;
  status: OutcomeStatus;
  /** What in this incident shows it. */
  evidence: string[];
}

/** The facts of an incident that the mapping reads. */
export interface MappingFacts {
  detections: { id: string; title: string; frameworks: { nistCsf: string[]; owaspNhi: string[] } }[];
  status: string;
  severity: string;
  escalations: { code: string; reason: string }[];
  playbooks: string[];
  containment: { action: string; target: string; state: string }[];
  recoveryTasks: { title: string; status: string }[];
  evidenceVerified: boolean;
  closeReason: string | null;
}

/** Each subcategory with whether this incident met it and why: DE.CM (and the detections' own), RS.MA, RS.MI, RC.RP. */
export function csfOutcomes(facts: MappingFacts): CsfOutcome[] {
  const out: CsfOutcome[] = [];
  const add = (id: string, status: OutcomeStatus, evidence: string[]) => out.push({ id, title: CSF_TITLES[id] ?? id, status, evidence });
  const detectIds = [...new Set(facts.detections.flatMap((d) => d.frameworks.nistCsf))].sort();
  for (const id of detectIds) add(id, 'met', facts.detections.filter((d) => d.frameworks.nistCsf.includes(id)).map((d) => `detection ${d.id}: ${d.title}`));
  const verified = facts.containment.filter((c) => c.state === 'verified');
  const failed = facts.containment.filter((c) => c.state === 'failed' || c.state === 'verification_failed');
  const pending = facts.containment.filter((c) => !['verified', 'failed', 'verification_failed', 'denied', 'cancelled'].includes(c.state));
  add('RS.MA-01', facts.playbooks.length ? 'met' : 'not_met', facts.playbooks.map((p) => `playbook ${p} executed`));
  add('RS.MA-02', facts.status === 'new' ? 'in_progress' : 'met', [`status ${facts.status}`]);
  add('RS.MA-03', 'met', [`severity ${facts.severity}`, ...facts.detections.map((d) => `detection ${d.id}`)]);
  add('RS.MA-04', facts.escalations.length ? 'met' : 'not_applicable', facts.escalations.map((e) => `escalated (${e.code}): ${e.reason}`));
  add('RS.MI-01', verified.length && !failed.length && !pending.length ? 'met' : pending.length ? 'in_progress' : 'not_met',
    [...verified.map((c) => `${c.action} on ${c.target} verified`), ...failed.map((c) => `${c.action} on ${c.target} ${c.state}`), ...pending.map((c) => `${c.action} on ${c.target} ${c.state}`)]);
  const rotated = verified.filter((c) => c.action === 'rotate_credential');
  add('RS.MI-02', rotated.length ? 'met' : 'not_met', rotated.length ? rotated.map((c) => `exposed credential replaced: ${c.target}`) : ['no exposed credential was replaced']);
  const recovery = facts.recoveryTasks;
  const done = recovery.filter((t) => t.status === 'done');
  add('RC.RP-01', facts.status === 'recovering' || facts.status === 'closed' ? 'met' : 'in_progress', [`status ${facts.status}`]);
  add('RC.RP-02', recovery.length && done.length === recovery.length ? 'met' : recovery.length ? 'in_progress' : 'not_applicable', recovery.map((t) => `${t.title}: ${t.status}`));
  add('RC.RP-05', facts.evidenceVerified && recovery.some((t) => /integrity/i.test(t.title) && t.status === 'done') ? 'met' : 'in_progress',
    [`evidence chain ${facts.evidenceVerified ? 'verifies' : 'does not verify'}`, ...recovery.filter((t) => /integrity/i.test(t.title)).map((t) => `${t.title}: ${t.status}`)]);
  add('RC.RP-06', facts.status === 'closed' ? 'met' : 'in_progress', facts.status === 'closed' ? [`closed: ${facts.closeReason ?? ''}`] : [`status ${facts.status}`]);
  return out;
}
