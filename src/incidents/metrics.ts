import { sql } from 'kysely';
import type { Executor } from '../store/db.js';

/**
 * How fast Cordon and its people were (SPEC §3.5):
 * - time to detect: the first sign of the problem (the earliest evidence, e.g. the leaking commit)
 *   to the first detection;
 * - time to contain: the first detection to verified containment;
 * - exposure window: the first sign to the moment the exposed credential or session stopped
 *   working (the first verified rotation, disable, session revocation or quarantine).
 */
export interface IncidentMetrics {
  firstSeenAt: Date | null;
  detectedAt: Date | null;
  containedAt: Date | null;
  /** When the exposed material was first proven unusable. */
  invalidatedAt: Date | null;
  timeToDetectMs: number | null;
  timeToContainMs: number | null;
  exposureWindowMs: number | null;
}

/** The actions that make the exposed material unusable. */
export const INVALIDATING_ACTIONS = ['rotate_credential', 'disable_identity', 'revoke_sessions', 'quarantine'] as const;

const span = (from: Date | null, to: Date | null) => (from && to ? Math.max(0, new Date(to).getTime() - new Date(from).getTime()) : null);

export function incidentMetrics(
  incident: { firstSeenAt: Date | null; detectedAt: Date | null; containedAt: Date | null },
  runs: { action: string; state: string; verifiedAt: Date | null }[],
): IncidentMetrics {
  const invalidating = runs.filter((r) => r.state === 'verified' && r.verifiedAt && (INVALIDATING_ACTIONS as readonly string[]).includes(r.action))
    .map((r) => new Date(r.verifiedAt!).getTime());
  const invalidatedAt = invalidating.length ? new Date(Math.min(...invalidating)) : null;
  return {
    firstSeenAt: incident.firstSeenAt, detectedAt: incident.detectedAt, containedAt: incident.containedAt, invalidatedAt,
    timeToDetectMs: span(incident.firstSeenAt, incident.detectedAt),
    timeToContainMs: span(incident.detectedAt, incident.containedAt),
    exposureWindowMs: span(incident.firstSeenAt, invalidatedAt),
  };
}

export interface Distribution {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

function distribution(values: number[]): Distribution {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]! : null);
  return { count: sorted.length, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: sorted.at(-1) ?? null };
}

export interface OverallMetrics {
  incidents: { total: number; open: number; escalated: number; byStatus: Record<string, number>; openBySeverity: Record<string, number> };
  actionsAwaitingApproval: number;
  timeToDetect: Distribution;
  timeToContain: Distribution;
  exposureWindow: Distribution;
  /** The latest incidents' figures, oldest first (for a chart over time). */
  series: { incidentId: string; openedAt: Date; severity: string; timeToDetectMs: number | null; timeToContainMs: number | null; exposureWindowMs: number | null }[];
}

/** Over every incident (the distributions) and the latest `seriesLimit` (the series). */
export async function overallMetrics(db: Executor, seriesLimit = 200): Promise<OverallMetrics> {
  const [incidents, invalidated, awaiting] = await Promise.all([
    db.selectFrom('incidents').select(['id', 'status', 'severity', 'escalated', 'openedAt', 'firstSeenAt', 'detectedAt', 'containedAt']).orderBy('openedAt').execute(),
    db.selectFrom('actionRuns').select(['incidentId', sql<Date>`min(verified_at)`.as('at')])
      .where('state', '=', 'verified').where('action', 'in', [...INVALIDATING_ACTIONS]).groupBy('incidentId').execute(),
    db.selectFrom('actionRuns').select(sql<string>`count(*)`.as('n')).where('state', '=', 'awaiting_approval').executeTakeFirstOrThrow(),
  ]);
  const invalidatedAt = new Map(invalidated.map((r) => [r.incidentId, new Date(r.at)]));
  const rows = incidents.map((i) => ({
    ...i,
    timeToDetectMs: span(i.firstSeenAt, i.detectedAt),
    timeToContainMs: span(i.detectedAt, i.containedAt),
    exposureWindowMs: span(i.firstSeenAt, invalidatedAt.get(i.id) ?? null),
  }));
  const count = <K extends string>(items: K[]) => items.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {});
  const open = rows.filter((r) => r.status !== 'closed');
  return {
    incidents: {
      total: rows.length, open: open.length, escalated: open.filter((r) => r.escalated).length,
      byStatus: count(rows.map((r) => r.status)), openBySeverity: count(open.map((r) => r.severity)),
    },
    actionsAwaitingApproval: Number(awaiting.n),
    timeToDetect: distribution(rows.map((r) => r.timeToDetectMs).filter((v): v is number => v !== null)),
    timeToContain: distribution(rows.map((r) => r.timeToContainMs).filter((v): v is number => v !== null)),
    exposureWindow: distribution(rows.map((r) => r.exposureWindowMs).filter((v): v is number => v !== null)),
    series: rows.slice(-seriesLimit).map(({ id, openedAt, severity, timeToDetectMs, timeToContainMs, exposureWindowMs }) => ({ incidentId: id, openedAt, severity, timeToDetectMs, timeToContainMs, exposureWindowMs })),
  };
}
