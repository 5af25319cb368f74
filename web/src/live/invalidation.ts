// With extensions: Node imports this module too, in test/web/invalidation.test.ts.
import type { Area } from '../api/areas.js';
import type { AuditEvent } from '../api/types.js';

/**
 * Which cached answers an audit record makes stale, by the kind its action (`action.verified`)
 * or its subject (`incident:…`, `identity:svc-x`) names. Every record is an audit entry, so the
 * audit list is always refreshed; the chain's verification is not (it walks the whole chain:
 * asked for by hand).
 *
 * The response engine audits every change to an incident under the subject `incident:<id>`:
 * `incident.*` (opened, detection_linked, status_changed, escalated, note_added, task_*,
 * blast_radius_snapshot, force_closed, updated), `response.started|finished` and each run's
 * `action.*` (awaiting_approval, approved, approval_recorded, break_glass, started, executed,
 * verified, verification_failed, failed, retry_scheduled, denied, cancelled, resumed), so an open
 * incident page refetches whenever one of its runs moves.
 */
const AREAS_BY_KIND: Record<string, readonly Area[]> = {
  detection: ['detections', 'incidents'],
  incident: ['incidents', 'actions'],
  action: ['incidents', 'actions'],
  response: ['incidents', 'actions'],
  // Readiness depends on connectors, owners, identities' kinds and the playbooks in force.
  playbook: ['playbooks', 'readiness'],
  inventory: ['identities', 'readiness'],
  connector: ['identities', 'readiness'],
  identity: ['identities', 'readiness'],
  credential: ['identities', 'readiness'],
  session: ['identities'],
  secret: ['identities'],
  broker: ['identities'],
  policy: ['policies'],
  // Broker tasks, keys, issuers and receivers, API tokens and ingestion counters: nothing the console lists.
  task: [],
  'signing-key': [],
  issuer: [],
  receiver: [],
  token: [],
  events: [],
  nats: [],
};

/** A kind the console does not know yet: refresh every area on screen rather than show stale data. */
const UNKNOWN_KIND: readonly Area[] = ['identities', 'detections', 'incidents', 'actions', 'playbooks', 'readiness', 'policies'];

export function staleAreas(record: Pick<AuditEvent, 'action' | 'subject'>): Area[] {
  const kinds = [record.action.split('.', 1)[0]!, record.subject.split(':', 1)[0]!];
  const known = kinds.map((kind) => AREAS_BY_KIND[kind]).filter((areas) => areas !== undefined);
  return [...new Set<Area>(['audit', ...(known.length ? known.flat() : UNKNOWN_KIND)])];
}

export interface Notice {
  seq: number;
  text: string;
  /** Where to look: a console path. */
  href?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/**
 * What deserves telling the user as it happens: new detections, new incidents, steps awaiting
 * approval, and incidents handed to people (escalated).
 */
export function noticeOf(record: AuditEvent): Notice | null {
  const p = record.payload;
  const [kind, id = ''] = splitSubject(record.subject);
  if (record.action === 'detection.created') {
    const on = text(p.identityId) ? ` on ${text(p.identityId)}` : '';
    return { seq: record.seq, text: `New ${text(p.severity) ?? ''} detection: ${text(p.type) ?? record.subject}${on}`, href: `/detections/${encodeURIComponent(id)}` };
  }
  if (kind !== 'incident') return null;
  const incident = `/incidents/${encodeURIComponent(id)}`;
  if (record.action === 'incident.opened') {
    // "Incident opened for <title> (<type>, <severity>)" or "Incident opened by hand: <title>"
    const what = (text(p.summary) ?? id).replace(/^Incident opened (?:for |by hand: )/, '');
    return { seq: record.seq, text: `New incident: ${what}`, href: incident };
  }
  if (record.action === 'action.awaiting_approval') {
    return { seq: record.seq, text: `Approval requested: ${text(p.action) ?? 'a step'} on ${text(p.target) ?? 'its target'}`, href: incident };
  }
  if (record.action === 'incident.escalated') {
    return { seq: record.seq, text: `Incident escalated (${text(p.code) ?? 'to people'}): ${text(p.reason) ?? text(p.summary) ?? id}`, href: incident };
  }
  return null;
}

function splitSubject(subject: string): [string, string?] {
  const colon = subject.indexOf(':');
  return colon < 0 ? [subject] : [subject.slice(0, colon), subject.slice(colon + 1)];
}
