import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { isTerminal, type ActionRunState } from '../domain/action-run.js';
import { SEVERITIES, severityRank, type Severity } from '../domain/detection.js';
import type { IncidentStatus } from '../domain/incident.js';
import { NON_DISRUPTIVE_ACTIONS, type EscalationCode } from '../domain/playbook.js';
import type { ActionName } from '../domain/action-run.js';
import type { Actor } from '../domain/roles.js';
import type { Tx } from '../store/db.js';

/**
 * Incidents as the response engine opens and updates them, inside its transactions: a detection
 * on an identity joins the identity's open incident (one incident, many detections), every change
 * is audited and lands on the incident's timeline.
 */

export interface TimelineEntry {
  kind: string;
  summary: string;
  /** What it is about: `detection:…`, `action:…`. */
  ref?: string;
  data?: Record<string, unknown>;
}

/** Adds to the incident's timeline and the audit chain, in the caller's transaction. */
export async function recordIncidentChange(tx: Tx, incidentId: string, actor: Actor, entry: TimelineEntry & { audit?: string }): Promise<void> {
  await tx.insertInto('incidentTimeline').values({
    incidentId, kind: entry.kind, actor: actor.id, summary: entry.summary, ref: entry.ref ?? null, data: JSON.stringify(entry.data ?? {}),
  }).execute();
  await appendAudit(tx, actor, { action: entry.audit ?? entry.kind, subject: `incident:${incidentId}`, payload: { summary: entry.summary, ref: entry.ref ?? null, ...(entry.data ?? {}) } });
}

export interface DetectionForIncident {
  id: string;
  type: string;
  severity: string;
  title: string;
  identityId: string | null;
  occurredAt: Date;
  detectedAt: Date;
  evidenceEventIds: string[];
}

/**
 * The first sign of the problem behind a detection: its earliest evidence, which for a leak found
 * in a repository is the commit that leaked it (`committedAt`), not the moment a scanner reported it.
 */
async function firstSignOf(tx: Tx, detection: DetectionForIncident): Promise<Date> {
  if (detection.evidenceEventIds.length === 0) return detection.occurredAt;
  const row = await tx.selectFrom('events')
    .select(sql<Date | null>`min(least(time, case when attributes->>'committedAt' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' then (attributes->>'committedAt')::timestamptz end))`.as('first'))
    .where('id', 'in', detection.evidenceEventIds).executeTakeFirst();
  const first = row?.first ? new Date(row.first) : detection.occurredAt;
  return first < detection.occurredAt ? first : detection.occurredAt;
}

function maxSeverity(a: string, b: string): Severity {
  return severityRank(a as Severity) >= severityRank(b as Severity) ? a as Severity : b as Severity;
}

/**
 * The open incident of the detection's identity with the detection linked to it, or a new one.
 * Concurrent detections on one identity take turns (an advisory lock on the identity), so they
 * make one incident, not two.
 */
export async function openOrJoinIncident(tx: Tx, detection: DetectionForIncident, teams: string[], actor: Actor): Promise<{ id: string; created: boolean }> {
  const linked = await tx.selectFrom('incidentDetections').select('incidentId').where('detectionId', '=', detection.id).executeTakeFirst();
  if (linked) return { id: linked.incidentId, created: false };
  const firstSeenAt = await firstSignOf(tx, detection);
  if (detection.identityId) {
    await sql`select pg_advisory_xact_lock(hashtext(${`incident-identity:${detection.identityId}`}))`.execute(tx);
    const open = await tx.selectFrom('incidents').select(['id', 'severity', 'teams', 'firstSeenAt'])
      .where('status', '<>', 'closed').where(sql<boolean>`identity_ids @> array[${detection.identityId}]::text[]`)
      .orderBy('openedAt').limit(1).forUpdate().executeTakeFirst();
    if (open) {
      await tx.insertInto('incidentDetections').values({ incidentId: open.id, detectionId: detection.id }).execute();
      await tx.updateTable('incidents').set({
        severity: maxSeverity(open.severity, detection.severity),
        teams: [...new Set([...open.teams, ...teams])].sort(),
        firstSeenAt: open.firstSeenAt && open.firstSeenAt < firstSeenAt ? open.firstSeenAt : firstSeenAt,
        updatedAt: sql`now()` as never,
      }).where('id', '=', open.id).execute();
      await recordIncidentChange(tx, open.id, actor, {
        kind: 'detection.linked', audit: 'incident.detection_linked', ref: `detection:${detection.id}`,
        summary: `Detection joined: ${detection.title} (${detection.type}, ${detection.severity})`, data: { detectionId: detection.id },
      });
      return { id: open.id, created: false };
    }
  }
  const id = randomUUID();
  await tx.insertInto('incidents').values({
    id, title: detection.title, type: detection.type, status: 'new', severity: SEVERITIES.includes(detection.severity as Severity) ? detection.severity : 'medium',
    identityIds: detection.identityId ? [detection.identityId] : [], teams: [...new Set(teams)].sort(), openedBy: actor.id,
    firstSeenAt, detectedAt: detection.detectedAt,
  }).execute();
  await tx.insertInto('incidentDetections').values({ incidentId: id, detectionId: detection.id }).execute();
  await recordIncidentChange(tx, id, actor, {
    kind: 'incident.opened', ref: `detection:${detection.id}`,
    summary: `Incident opened for ${detection.title} (${detection.type}, ${detection.severity})`,
    data: { detectionId: detection.id, identityId: detection.identityId, title: detection.title, severity: detection.severity },
  });
  return { id, created: true };
}

export interface Escalation {
  code: EscalationCode;
  reason: string;
  runId?: string;
}

/** Hands the incident to dedicated (human-led) response, saying why. */
export async function escalateIncident(tx: Tx, incidentId: string, escalation: Escalation, actor: Actor): Promise<void> {
  const entry = { at: new Date().toISOString(), ...escalation };
  await tx.updateTable('incidents').set({
    escalated: true,
    escalations: sql`escalations || ${JSON.stringify([entry])}::jsonb` as never,
    updatedAt: sql`now()` as never,
  }).where('id', '=', incidentId).execute();
  await recordIncidentChange(tx, incidentId, actor, {
    kind: 'incident.escalated', ref: escalation.runId ? `action:${escalation.runId}` : undefined,
    summary: `Escalated to dedicated response (${escalation.code}): ${escalation.reason}`, data: { ...escalation },
  });
}

/** Changes the status (audited, on the timeline); no-op when it already has it. */
export async function setIncidentStatus(tx: Tx, incidentId: string, status: IncidentStatus, actor: Actor, why: string, extra: { containedAt?: Date } = {}): Promise<void> {
  const row = await tx.selectFrom('incidents').select(['status']).where('id', '=', incidentId).executeTakeFirstOrThrow();
  if (row.status === status) return;
  await tx.updateTable('incidents').set({
    status, updatedAt: sql`now()` as never,
    ...(extra.containedAt ? { containedAt: extra.containedAt } : {}),
    ...(status === 'closed' ? { closedAt: sql`now()` as never } : {}),
  }).where('id', '=', incidentId).execute();
  await recordIncidentChange(tx, incidentId, actor, {
    kind: 'incident.status_changed', summary: `Status ${row.status} → ${status}: ${why}`, data: { from: row.status, to: status },
  });
}

/**
 * Brings an incident's status in line with its action runs: `containing` while any is under way
 * or awaits approval; `contained` once every run is over, at least one containment action was
 * verified, none failed and nothing was escalated; `triage` (a human decides) otherwise. A status
 * people moved on (recovering, closed) is theirs and is kept.
 */
export async function settleIncident(tx: Tx, incidentId: string, actor: Actor): Promise<void> {
  const incident = await tx.selectFrom('incidents').select(['status', 'escalated', 'containedAt']).where('id', '=', incidentId).forUpdate().executeTakeFirstOrThrow();
  if (incident.status === 'recovering' || incident.status === 'closed') return;
  const runs = await tx.selectFrom('actionRuns').select(['state', 'action', 'verifiedAt']).where('incidentId', '=', incidentId).execute();
  if (runs.some((r) => !isTerminal(r.state as ActionRunState))) {
    await setIncidentStatus(tx, incidentId, 'containing', actor, 'containment actions are under way');
    return;
  }
  const containment = runs.filter((r) => !NON_DISRUPTIVE_ACTIONS.includes(r.action as ActionName));
  const verified = containment.filter((r) => r.state === 'verified');
  const failed = runs.some((r) => r.state === 'failed' || r.state === 'verification_failed');
  if (verified.length > 0 && !failed && !incident.escalated) {
    const at = new Date(Math.max(...verified.map((r) => new Date(r.verifiedAt!).getTime())));
    await setIncidentStatus(tx, incidentId, 'contained', actor, `${verified.length} containment action(s) verified`, { containedAt: incident.containedAt ?? at });
    return;
  }
  const why = incident.escalated ? 'escalated to dedicated response'
    : failed ? 'a containment action failed'
      : 'no containment action was verified';
  await setIncidentStatus(tx, incidentId, 'triage', actor, why);
}
