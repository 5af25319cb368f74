import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { CONFIDENCES, SEVERITIES, type Confidence, type Severity } from '../domain/detection.js';
import { NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Executor, Tx } from '../store/db.js';
import { enqueueJob } from '../store/jobs.js';
import type { DetectionRow } from '../store/schema.js';
import type { Finding } from './finding.js';
import { DETECTION_RESPOND_JOB, type DetectionRespondPayload } from './handoff.js';

/** Who records detections in the audit chain: Cordon itself, on behalf of whoever sent the events. */
export const DETECTION_ACTOR: Actor = { id: 'system:detection', subject: 'system' };

/**
 * Stores findings as detections: findings with one dedupe key become one detection with all
 * their evidence; a detection already stored is left as it is. Each new detection is audited
 * and handed to the response engine (a `detection.respond` job), in the caller's transaction.
 */
export async function storeDetections(tx: Tx, findings: Finding[], via: Actor): Promise<string[]> {
  if (findings.length === 0) return [];
  const merged = new Map<string, Finding & { evidence: string[] }>();
  for (const f of findings) {
    const key = `${f.rule}:${f.key}`;
    const existing = merged.get(key);
    if (existing) {
      if (!existing.evidence.includes(f.eventId)) existing.evidence.push(f.eventId);
    } else merged.set(key, { ...f, evidence: [f.eventId] });
  }
  const detectedAt = new Date();
  const rows = [...merged.entries()].map(([dedupeKey, f]) => ({
    id: randomUUID(), dedupeKey, rule: f.rule, type: f.type, severity: f.severity, confidence: f.confidence,
    identityId: f.identityId, credentialId: f.credentialId ?? null, title: f.title, summary: f.summary,
    evidenceEventIds: f.evidence, frameworks: JSON.stringify(f.frameworks), attributes: JSON.stringify(f.attributes),
    occurredAt: f.occurredAt, detectedAt,
  }));
  const created = await tx.insertInto('detections').values(rows)
    .onConflict((oc) => oc.column('dedupeKey').doNothing()).returning('id').execute();
  const ids = new Set(created.map((r) => r.id));
  for (const row of rows.filter((r) => ids.has(r.id))) {
    await appendAudit(tx, DETECTION_ACTOR, {
      action: 'detection.created', subject: `detection:${row.id}`,
      payload: {
        rule: row.rule, type: row.type, severity: row.severity, confidence: row.confidence, identityId: row.identityId,
        credentialId: row.credentialId, evidence: row.evidenceEventIds, via: via.id,
      },
    });
    const payload: DetectionRespondPayload = { detectionId: row.id, requestedBy: { id: via.id, subject: via.subject } };
    await enqueueJob(tx, { kind: DETECTION_RESPOND_JOB, payload: { ...payload }, createdBy: DETECTION_ACTOR.id });
  }
  return rows.filter((r) => ids.has(r.id)).map((r) => r.id);
}

export interface DetectionFilter {
  type?: string;
  /** At least this severity. */
  severity?: Severity;
  /** At least this confidence. */
  confidence?: Confidence;
  identity?: string;
  rule?: string;
  since?: Date;
  until?: Date;
  /** Keyset cursor: `<detectedAt ISO>|<id>` of the last item seen (newest first). */
  before?: string;
  limit: number;
}

export type Detection = Omit<DetectionRow, 'dedupeKey'>;

/** Detections, newest first. */
export async function listDetections(db: Executor, filter: DetectionFilter): Promise<{ items: Detection[]; nextCursor: string | null }> {
  let query = db.selectFrom('detections')
    .select(['id', 'rule', 'type', 'severity', 'confidence', 'identityId', 'credentialId', 'title', 'summary', 'evidenceEventIds', 'frameworks', 'attributes', 'occurredAt', 'detectedAt'])
    .orderBy('detectedAt', 'desc').orderBy('id', 'desc').limit(filter.limit + 1);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.severity) query = query.where('severity', 'in', SEVERITIES.slice(SEVERITIES.indexOf(filter.severity)));
  if (filter.confidence) query = query.where('confidence', 'in', CONFIDENCES.slice(CONFIDENCES.indexOf(filter.confidence)));
  if (filter.identity) query = query.where('identityId', '=', filter.identity);
  if (filter.rule) query = query.where('rule', '=', filter.rule);
  if (filter.since) query = query.where('detectedAt', '>=', filter.since);
  if (filter.until) query = query.where('detectedAt', '<', filter.until);
  if (filter.before) {
    const bar = filter.before.indexOf('|');
    const at = new Date(filter.before.slice(0, bar));
    const id = filter.before.slice(bar + 1);
    if (!Number.isNaN(at.getTime())) query = query.where(sql<boolean>`(detected_at, id) < (${at}, ${id})`);
  }
  const rows = await query.execute();
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > filter.limit && last ? `${last.detectedAt.toISOString()}|${last.id}` : null };
}

/** A detection with its evidence events (secrets in them are fingerprints). */
export async function getDetection(db: Executor, id: string) {
  const detection = await db.selectFrom('detections')
    .select(['id', 'rule', 'type', 'severity', 'confidence', 'identityId', 'credentialId', 'title', 'summary', 'evidenceEventIds', 'frameworks', 'attributes', 'occurredAt', 'detectedAt'])
    .where('id', '=', id).executeTakeFirst();
  if (!detection) throw new NotFoundError('ERR_DETECTION_NOT_FOUND', `detection "${id}" does not exist`);
  const evidence = detection.evidenceEventIds.length
    ? await db.selectFrom('events').selectAll().where('id', 'in', detection.evidenceEventIds).orderBy('time').execute()
    : [];
  return { ...detection, evidence };
}
