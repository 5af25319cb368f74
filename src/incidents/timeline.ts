import type { Executor } from '../store/db.js';

/** One line of an incident's story, in time order. */
export interface TimelineItem {
  at: Date;
  /** `event` (a signal), then what Cordon and people did: `detection.linked`, `action.verified`, `note.added`, … */
  kind: string;
  actor: string;
  summary: string;
  ref: string | null;
  data: Record<string, unknown>;
}

/** How many signals of the incident's detections the timeline shows. */
const EVENTS_SHOWN = 200;

/**
 * The incident's timeline: the signals its detections rest on (at the time they happened), and
 * everything recorded on the incident since — detections, plans, approvals, executions,
 * verifications, escalations, notes, tasks, status changes — with who did it.
 */
export async function incidentTimeline(db: Executor, incidentId: string): Promise<TimelineItem[]> {
  const [entries, detections] = await Promise.all([
    db.selectFrom('incidentTimeline').selectAll().where('incidentId', '=', incidentId).orderBy('seq').execute(),
    db.selectFrom('incidentDetections').innerJoin('detections', 'detections.id', 'incidentDetections.detectionId')
      .select(['detections.id', 'detections.evidenceEventIds', 'detections.title', 'detections.occurredAt', 'detections.detectedAt', 'detections.rule'])
      .where('incidentDetections.incidentId', '=', incidentId).execute(),
  ]);
  const eventIds = [...new Set(detections.flatMap((d) => d.evidenceEventIds))].slice(0, EVENTS_SHOWN);
  const events = eventIds.length
    ? await db.selectFrom('events').select(['id', 'time', 'type', 'format', 'source', 'action', 'target', 'outcome', 'sourceIp', 'identityIds']).where('id', 'in', eventIds).execute()
    : [];
  const items: (TimelineItem & { order: number })[] = [
    ...events.map((e) => ({
      at: new Date(e.time), kind: 'event', actor: e.source, ref: `event:${e.id}`, order: 0,
      summary: `${e.type}${e.action ? ` ${e.action}` : ''}${e.target ? ` on ${e.target}` : ''} by ${e.identityIds.join(', ') || 'an unknown identity'}${e.sourceIp ? ` from ${e.sourceIp}` : ''} (${e.outcome}, ${e.format})`,
      data: { eventId: e.id, format: e.format },
    })),
    ...detections.map((d) => ({
      at: new Date(d.detectedAt), kind: 'detection', actor: d.rule, ref: `detection:${d.id}`, order: 1,
      summary: `Detected: ${d.title}`, data: { detectionId: d.id, occurredAt: d.occurredAt },
    })),
    ...entries.map((e) => ({ at: new Date(e.at), kind: e.kind, actor: e.actor, summary: e.summary, ref: e.ref, data: e.data, order: 2 + Number(e.seq) })),
  ];
  return items.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order).map(({ order: _order, ...item }) => item);
}
