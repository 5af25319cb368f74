import { sql } from 'kysely';
import { SEVERITIES, type Severity } from '../domain/detection.js';
import { NotFoundError } from '../domain/errors.js';
import { afterCursor, encodeCursor } from '../store/cursor.js';
import type { Executor } from '../store/db.js';
import type { IncidentRow } from '../store/schema.js';

export interface IncidentFilter {
  status?: string;
  /** Open incidents only (any status but closed). */
  open?: boolean;
  /** At least this severity. */
  severity?: Severity;
  identity?: string;
  team?: string;
  escalated?: boolean;
  limit: number;
  /** Keyset cursor: `<openedAt ISO>|<id>` of the last item seen (newest first). */
  before?: string;
}

export async function listIncidents(db: Executor, filter: IncidentFilter): Promise<{ items: IncidentRow[]; nextCursor: string | null }> {
  let query = db.selectFrom('incidents').selectAll().orderBy('openedAt', 'desc').orderBy('id', 'desc').limit(filter.limit + 1);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.open) query = query.where('status', '<>', 'closed');
  if (filter.severity) query = query.where('severity', 'in', SEVERITIES.slice(SEVERITIES.indexOf(filter.severity)));
  if (filter.identity) query = query.where(sql<boolean>`identity_ids @> array[${filter.identity}]::text[]`);
  if (filter.team) query = query.where(sql<boolean>`teams @> array[${filter.team}]::text[]`);
  if (filter.escalated !== undefined) query = query.where('escalated', '=', filter.escalated);
  const after = filter.before ? afterCursor('opened_at', filter.before) : undefined;
  if (after) query = query.where(after);
  const rows = await query.execute();
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last.openedAt, last.id) : null };
}

export async function getIncidentRow(db: Executor, id: string): Promise<IncidentRow> {
  const row = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('ERR_INCIDENT_NOT_FOUND', `incident "${id}" does not exist`);
  return row;
}

/** An incident with what it is made of: detections, responses, action runs, tasks, timeline. */
export async function incidentDetail(db: Executor, id: string) {
  const incident = await getIncidentRow(db, id);
  const [detections, responses, actions, approvals, tasks, timeline, evidence] = await Promise.all([
    db.selectFrom('incidentDetections').innerJoin('detections', 'detections.id', 'incidentDetections.detectionId')
      .select(['detections.id', 'detections.type', 'detections.rule', 'detections.severity', 'detections.confidence', 'detections.title',
        'detections.summary', 'detections.identityId', 'detections.credentialId', 'detections.frameworks', 'detections.occurredAt', 'detections.detectedAt',
        'detections.evidenceEventIds', 'incidentDetections.linkedAt'])
      .where('incidentDetections.incidentId', '=', id).orderBy('detections.detectedAt').execute(),
    db.selectFrom('responses').selectAll().where('incidentId', '=', id).orderBy('createdAt').execute(),
    db.selectFrom('actionRuns').selectAll().where('incidentId', '=', id).orderBy('createdAt').orderBy('seq').execute(),
    db.selectFrom('actionApprovals').innerJoin('actionRuns', 'actionRuns.id', 'actionApprovals.runId').selectAll('actionApprovals')
      .where('actionRuns.incidentId', '=', id).orderBy('actionApprovals.at').execute(),
    db.selectFrom('incidentTasks').selectAll().where('incidentId', '=', id).orderBy('createdAt').execute(),
    db.selectFrom('incidentTimeline').selectAll().where('incidentId', '=', id).orderBy('seq').execute(),
    db.selectFrom('evidenceItems').select(['seq', 'id', 'kind', 'title', 'ref', 'contentDigest', 'prevHash', 'hash', 'collectedBy', 'collectedAt'])
      .where('incidentId', '=', id).orderBy('seq').execute(),
  ]);
  return {
    ...incident,
    detections,
    responses,
    actions,
    approvals,
    tasks,
    timeline: timeline.map((e) => ({ ...e, seq: Number(e.seq) })),
    evidence: evidence.map((e) => ({ ...e, seq: Number(e.seq) })),
  };
}
