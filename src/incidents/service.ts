import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Severity } from '../domain/detection.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import type { IncidentStatus, TaskStatus, TlpLabel } from '../domain/incident.js';
import type { Actor, ApiRole } from '../domain/roles.js';
import { getDetection } from '../detect/store.js';
import { blastRadius } from '../inventory/blast-radius.js';
import type { IdentityGraph } from '../inventory/graph-index.js';
import type { Db, Tx } from '../store/db.js';
import { recoveryChecklist } from './checklist.js';
import { appendEvidence } from './evidence.js';
import { getIncidentRow } from './queries.js';
import { recordIncidentChange, setIncidentStatus } from './store.js';

/** Status changes people may make; `contained` only follows verified containment. */
const MANUAL_TRANSITIONS: Record<IncidentStatus, readonly IncidentStatus[]> = {
  new: ['triage', 'containing', 'closed'],
  triage: ['containing', 'recovering', 'closed'],
  containing: ['triage', 'recovering', 'closed'],
  contained: ['triage', 'recovering', 'closed'],
  recovering: ['triage', 'closed'],
  closed: ['triage'],
};

/** Evidence events kept per detection when an incident opens (a detection may merge many). */
const EVENTS_KEPT = 50;
export const MIN_FORCE_REASON = 10;

export interface IncidentServiceDeps {
  db: Db;
  graph: IdentityGraph;
  /**
   * Cancels the incident's runs that have not started (planned, approved, awaiting approval),
   * in the caller's transaction; the response engine provides it.
   */
  cancelPendingRuns(tx: Tx, incidentId: string, actor: Actor, reason: string): Promise<number>;
}

export interface NewIncident {
  title: string;
  severity: Severity;
  summary?: string;
  identityIds?: string[];
  detectionIds?: string[];
  assignee?: string;
  teams?: string[];
  tlp?: TlpLabel;
}

export interface IncidentChanges {
  title?: string;
  severity?: Severity;
  summary?: string;
  assignee?: string | null;
  teams?: string[];
  tlp?: TlpLabel;
}

/**
 * The incident workspace's changes, each audited and on the incident's timeline: incidents opened
 * by hand, their fields, status (with the rule that an incident with a step awaiting approval or
 * a failed proof stays open unless an admin closes it with a reason), notes, detections linked,
 * the blast-radius snapshot, tasks. What an incident collects when it opens (evidence, recovery
 * checklist, blast radius) is `collectOpening`, which the response engine calls too.
 */
export function incidentService(deps: IncidentServiceDeps) {
  const { db } = deps;

  async function teamsOf(tx: Tx, identityIds: string[]): Promise<string[]> {
    if (identityIds.length === 0) return [];
    const rows = await tx.selectFrom('edges').select('toId').distinct().where('kind', '=', 'owned_by').where('fromId', 'in', identityIds).execute();
    return rows.map((r) => r.toId).sort();
  }

  /** The detection and its events as evidence, and the recovery checklist as tasks, in the caller's transaction. */
  async function collectInTransaction(tx: Tx, incidentId: string, detectionId: string | null, actor: Actor): Promise<void> {
    const incident = await tx.selectFrom('incidents').select(['type', 'identityIds']).where('id', '=', incidentId).executeTakeFirstOrThrow();
    if (detectionId) {
      const detection = await getDetection(tx, detectionId);
      const { evidence: events, ...finding } = detection;
      await appendEvidence(tx, { id: `detection:${detectionId}`, incidentId, kind: 'detection', title: `Detection: ${finding.title}`, ref: `detection:${detectionId}`, content: finding, collectedBy: actor.id });
      for (const event of events.slice(0, EVENTS_KEPT)) {
        await appendEvidence(tx, { id: `event:${incidentId}:${event.id}`, incidentId, kind: 'event', title: `Event ${event.type} (${event.format}) from ${event.source}`, ref: `event:${event.id}`, content: event, collectedBy: actor.id });
      }
    }
    const team = (await teamsOf(tx, incident.identityIds))[0] ?? 'soc';
    for (const item of recoveryChecklist(incident.type)) {
      const created = await tx.insertInto('incidentTasks').values({
        id: `${incidentId}:recovery:${item.key}`, incidentId, team, title: item.title, detail: item.detail, kind: 'recovery', source: 'checklist',
      }).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
      if (created) {
        await recordIncidentChange(tx, incidentId, actor, {
          kind: 'task.created', audit: 'incident.task_created', ref: `task:${created.id}`, summary: `Recovery task for ${team}: ${item.title}`, data: { taskId: created.id, team, kind: 'recovery' },
        });
      }
    }
  }

  /** Takes (or refreshes) the blast-radius snapshot of the incident's first identity, kept as evidence too. */
  async function snapshotBlastRadius(incidentId: string, actor: Actor): Promise<Record<string, unknown> | null> {
    const incident = await getIncidentRow(db, incidentId);
    const identityId = incident.identityIds[0];
    if (!identityId) return null;
    const radius = await blastRadius(deps.graph, { type: 'identity', id: identityId });
    const snapshot = {
      identityId, depth: radius.depth, truncated: radius.truncated, identities: radius.identities.length, credentials: radius.credentials.length,
      sessions: radius.sessions.length, resources: radius.resources, revocationImpact: radius.revocationImpact, nodes: radius.nodes,
    };
    await db.transaction().execute(async (tx) => {
      await tx.updateTable('incidents').set({ blastRadius: JSON.stringify(snapshot), blastRadiusAt: sql`now()` as never, updatedAt: sql`now()` as never }).where('id', '=', incidentId).execute();
      const item = await appendEvidence(tx, {
        id: `blast-radius:${incidentId}:${randomUUID()}`, incidentId, kind: 'blast_radius', title: `Blast radius of ${identityId}`, ref: `identity:${identityId}`,
        content: snapshot, collectedBy: actor.id,
      });
      const impact = radius.revocationImpact;
      await recordIncidentChange(tx, incidentId, actor, {
        kind: 'blast_radius.snapshot', audit: 'incident.blast_radius_snapshot', ref: `evidence:${item.id}`,
        summary: `Blast radius of ${identityId}: ${radius.identities.length - 1} other identities, ${radius.sessions.length} live sessions, ${radius.resources.length} resources; ${impact.safeToRevoke ? 'safe to revoke' : `revoking breaks ${impact.consumers.length} consumer(s)`}`,
        data: { identities: radius.identities.length, safeToRevoke: impact.safeToRevoke },
      });
    });
    return snapshot;
  }

  /** Everything an incident collects when it opens; called once per new incident. */
  async function collectOpening(incidentId: string, detectionId: string | null, actor: Actor): Promise<void> {
    await db.transaction().execute((tx) => collectInTransaction(tx, incidentId, detectionId, actor));
    await snapshotBlastRadius(incidentId, actor);
  }

  async function linkDetectionIn(tx: Tx, incidentId: string, detectionId: string, actor: Actor): Promise<void> {
    const detection = await tx.selectFrom('detections').select(['id', 'title', 'type', 'severity', 'identityId', 'occurredAt']).where('id', '=', detectionId).executeTakeFirst();
    if (!detection) throw new NotFoundError('ERR_DETECTION_NOT_FOUND', `detection "${detectionId}" does not exist`);
    const linked = await tx.selectFrom('incidentDetections').select('incidentId').where('detectionId', '=', detectionId).executeTakeFirst();
    if (linked) throw new ConflictError('ERR_DETECTION_LINKED', `detection ${detectionId} already belongs to incident ${linked.incidentId}`);
    await tx.insertInto('incidentDetections').values({ incidentId, detectionId }).execute();
    await tx.updateTable('incidents').set({
      identityIds: sql`(select array(select distinct unnest(identity_ids || ${detection.identityId ? [detection.identityId] : []}::text[])))` as never,
      firstSeenAt: sql`least(first_seen_at, ${detection.occurredAt})` as never,
      updatedAt: sql`now()` as never,
    }).where('id', '=', incidentId).execute();
    await recordIncidentChange(tx, incidentId, actor, {
      kind: 'detection.linked', audit: 'incident.detection_linked', ref: `detection:${detectionId}`,
      summary: `Detection linked: ${detection.title} (${detection.type}, ${detection.severity})`, data: { detectionId },
    });
    await collectInTransaction(tx, incidentId, detectionId, actor);
  }

  return {
    collectOpening,
    snapshotBlastRadius,

    /** An incident opened by hand (status `new`), with the detections and identities it is about. */
    async create(input: NewIncident, actor: Actor): Promise<string> {
      const id = randomUUID();
      const detections = input.detectionIds ?? [];
      await db.transaction().execute(async (tx) => {
        const first = detections.length
          ? await tx.selectFrom('detections').select(['type', 'detectedAt', 'occurredAt']).where('id', '=', detections[0]!).executeTakeFirst()
          : undefined;
        if (detections.length && !first) throw new NotFoundError('ERR_DETECTION_NOT_FOUND', `detection "${detections[0]}" does not exist`);
        const identityIds = [...new Set(input.identityIds ?? [])];
        const known = identityIds.length ? await tx.selectFrom('identities').select('id').where('id', 'in', identityIds).execute() : [];
        const unknown = identityIds.filter((i) => !known.some((k) => k.id === i));
        if (unknown.length) {
          throw new InvalidInputError('ERR_IDENTITY_NOT_FOUND', `unknown identities: ${unknown.join(', ')}`, unknown.map((i) => ({ path: `/identityIds/${identityIds.indexOf(i)}`, in: 'body', message: `identity "${i}" does not exist` })));
        }
        await tx.insertInto('incidents').values({
          id, title: input.title, type: first?.type ?? 'manual', summary: input.summary ?? '', status: 'new', severity: input.severity,
          identityIds, assignee: input.assignee ?? null, teams: [...new Set([...(input.teams ?? []), ...await teamsOf(tx, identityIds)])].sort(),
          tlp: input.tlp ?? 'amber', openedBy: actor.id, firstSeenAt: first?.occurredAt ?? null, detectedAt: first?.detectedAt ?? null,
        }).execute();
        await recordIncidentChange(tx, id, actor, { kind: 'incident.opened', summary: `Incident opened by hand: ${input.title}`, data: { identityIds, detections, title: input.title, severity: input.severity } });
        for (const detectionId of detections) await linkDetectionIn(tx, id, detectionId, actor);
        if (detections.length === 0) await collectInTransaction(tx, id, null, actor);
      });
      await snapshotBlastRadius(id, actor);
      return id;
    },

    async update(id: string, changes: IncidentChanges, actor: Actor): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('incidents').select(['title', 'severity', 'summary', 'assignee', 'teams', 'tlp']).where('id', '=', id).forUpdate().executeTakeFirst();
        if (!before) throw new NotFoundError('ERR_INCIDENT_NOT_FOUND', `incident "${id}" does not exist`);
        const changed = Object.entries(changes).filter(([key, value]) => value !== undefined && JSON.stringify((before as Record<string, unknown>)[key]) !== JSON.stringify(value));
        if (changed.length === 0) return;
        await tx.updateTable('incidents').set({ ...Object.fromEntries(changed), updatedAt: sql`now()` as never }).where('id', '=', id).execute();
        await recordIncidentChange(tx, id, actor, {
          kind: 'incident.updated', summary: changed.map(([key, value]) => `${key}: ${JSON.stringify((before as Record<string, unknown>)[key])} → ${JSON.stringify(value)}`).join('; '),
          data: { changes: Object.fromEntries(changed) },
        });
      });
    },

    /**
     * Moves the incident by hand. An incident with a step awaiting approval, a step whose proof
     * failed or a step under way cannot be closed, unless an admin forces it with a reason: the
     * pending steps are then cancelled.
     */
    async setStatus(id: string, input: { status: IncidentStatus; reason?: string; force?: boolean }, actor: Actor & { role?: ApiRole }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const incident = await tx.selectFrom('incidents').select(['status']).where('id', '=', id).forUpdate().executeTakeFirst();
        if (!incident) throw new NotFoundError('ERR_INCIDENT_NOT_FOUND', `incident "${id}" does not exist`);
        const from = incident.status as IncidentStatus;
        if (from === input.status) return;
        if (!MANUAL_TRANSITIONS[from].includes(input.status)) {
          throw new ConflictError('ERR_INCIDENT_STATUS', input.status === 'contained'
            ? 'an incident becomes contained only when its containment actions are verified'
            : `an incident that is ${from} cannot become ${input.status} (allowed: ${MANUAL_TRANSITIONS[from].join(', ')})`);
        }
        if (input.status === 'closed') {
          if (!input.reason?.trim()) throw new InvalidInputError('ERR_CLOSE_REASON', 'closing an incident needs a reason', [{ path: '/reason', in: 'body', message: 'is required to close' }]);
          const blocking = await tx.selectFrom('actionRuns').select(['id', 'state', 'action', 'targetLabel'])
            .where('incidentId', '=', id).where('state', 'in', ['awaiting_approval', 'verification_failed', 'planned', 'approved', 'running']).execute();
          if (blocking.length && !input.force) {
            throw new ConflictError('ERR_INCIDENT_NOT_CLOSABLE', `the incident cannot be closed: ${blocking.map((b) => `${b.action} on ${b.targetLabel} is ${b.state}`).join('; ')} (an admin may force it with a reason)`);
          }
          if (blocking.length) {
            if (actor.role !== 'admin') throw new ForbiddenError('ERR_FORCE_CLOSE_ROLE', 'only an admin may close an incident with steps pending or unproven');
            if (input.reason.trim().length < MIN_FORCE_REASON) {
              throw new InvalidInputError('ERR_CLOSE_REASON', `forcing a close needs a reason of at least ${MIN_FORCE_REASON} characters`, [{ path: '/reason', in: 'body', message: `must be at least ${MIN_FORCE_REASON} characters to force` }]);
            }
            const cancelled = await deps.cancelPendingRuns(tx, id, actor, `incident closed by ${actor.subject}: ${input.reason}`);
            await recordIncidentChange(tx, id, actor, {
              kind: 'incident.force_closed', summary: `Closed by an admin despite ${blocking.map((b) => `${b.action} ${b.state}`).join(', ')}: ${input.reason}`,
              data: { blocking: blocking.map((b) => ({ runId: b.id, state: b.state })), cancelled, reason: input.reason },
            });
          }
          await tx.updateTable('incidents').set({ closeReason: input.reason }).where('id', '=', id).execute();
        }
        if (from === 'closed') await tx.updateTable('incidents').set({ closedAt: null, closeReason: null }).where('id', '=', id).execute();
        await setIncidentStatus(tx, id, input.status, actor, input.reason ?? 'changed by hand');
      });
    },

    async addNote(id: string, text: string, actor: Actor): Promise<string> {
      await getIncidentRow(db, id);
      const noteId = `note:${randomUUID()}`;
      await db.transaction().execute(async (tx) => {
        const item = await appendEvidence(tx, { id: noteId, incidentId: id, kind: 'note', title: `Note by ${actor.subject}`, content: { text, by: actor.subject }, collectedBy: actor.id });
        await recordIncidentChange(tx, id, actor, { kind: 'note.added', audit: 'incident.note_added', ref: `evidence:${item.id}`, summary: text.length > 200 ? `${text.slice(0, 200)}…` : text, data: { noteId } });
      });
      return noteId;
    },

    async linkDetection(id: string, detectionId: string, actor: Actor): Promise<void> {
      await getIncidentRow(db, id);
      await db.transaction().execute((tx) => linkDetectionIn(tx, id, detectionId, actor));
    },

    async updateTask(id: string, taskId: string, status: TaskStatus, actor: Actor): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const task = await tx.selectFrom('incidentTasks').select(['status', 'title']).where('id', '=', taskId).where('incidentId', '=', id).forUpdate().executeTakeFirst();
        if (!task) throw new NotFoundError('ERR_TASK_NOT_FOUND', `incident "${id}" has no task "${taskId}"`);
        if (task.status === status) return;
        await tx.updateTable('incidentTasks').set({
          status, updatedAt: sql`now()` as never,
          doneBy: status === 'open' ? null : actor.subject, doneAt: status === 'open' ? null : sql`now()` as never,
        }).where('id', '=', taskId).execute();
        await recordIncidentChange(tx, id, actor, { kind: 'task.updated', audit: 'incident.task_updated', ref: `task:${taskId}`, summary: `Task "${task.title}": ${task.status} → ${status}`, data: { taskId, from: task.status, to: status } });
      });
    },
  };
}

export type IncidentService = ReturnType<typeof incidentService>;
