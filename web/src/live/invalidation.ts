import type { Area } from '../api/endpoints';
import type { AuditEvent } from '../api/types';

/**
 * Which cached answers an audit record makes stale, by the kind its action (`detection.created`)
 * or its subject (`identity:svc-x`) names. Every record is an audit entry, so the audit list is
 * always refreshed; the chain's verification is not (it walks the whole chain: asked for by hand).
 */
const AREAS_BY_KIND: Record<string, readonly Area[]> = {
  detection: ['detections', 'incidents'],
  incident: ['incidents', 'actions'],
  action: ['actions', 'incidents'],
  approval: ['actions', 'incidents'],
  escalation: ['incidents'],
  evidence: ['incidents'],
  task: ['incidents'],
  playbook: ['playbooks'],
  inventory: ['identities'],
  connector: ['identities'],
  identity: ['identities'],
  credential: ['identities'],
  session: ['identities'],
  secret: ['identities'],
  broker: ['identities'],
  policy: ['policies'],
  token: [],
  events: [],
};

/** Records of kinds not listed above come from the response engine's areas: incidents and actions may have changed. */
const UNKNOWN_KIND: readonly Area[] = ['incidents', 'actions'];

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

/** What deserves telling the user as it happens: new detections, incidents, and steps awaiting approval. */
export function noticeOf(record: AuditEvent): Notice | null {
  const p = record.payload;
  const [kind, id = ''] = splitSubject(record.subject);
  if (record.action === 'detection.created') {
    const on = typeof p.identityId === 'string' ? ` on ${p.identityId}` : '';
    return { seq: record.seq, text: `New ${String(p.severity ?? '')} detection: ${String(p.type ?? record.subject)}${on}`, href: `/detections/${encodeURIComponent(id)}` };
  }
  if (kind === 'incident' && /\.(opened|created)$/.test(record.action)) {
    const title = typeof p.title === 'string' ? p.title : id;
    return { seq: record.seq, text: `New incident: ${title}`, href: `/incidents/${encodeURIComponent(id)}` };
  }
  if (/approval_requested|awaiting_approval/.test(record.action) || p.state === 'awaiting_approval') {
    const incident = typeof p.incidentId === 'string' ? p.incidentId : null;
    return { seq: record.seq, text: `Approval requested: ${typeof p.action === 'string' ? p.action : record.subject}`, href: incident ? `/incidents/${encodeURIComponent(incident)}` : '/incidents' };
  }
  return null;
}

function splitSubject(subject: string): [string, string?] {
  const colon = subject.indexOf(':');
  return colon < 0 ? [subject] : [subject.slice(0, colon), subject.slice(colon + 1)];
}
