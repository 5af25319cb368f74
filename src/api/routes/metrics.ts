import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { READERS } from '../../domain/roles.js';
import { overallMetrics } from '../../incidents/metrics.js';
import type { Api } from '../server.js';

/**
 * Prometheus exposition at `/metrics` (a reader's API token, like every route but health and
 * the broker's discovery): incidents and their timings, read from the store at each scrape, so
 * every process sharing it reports the same figures, and this process's runtime metrics.
 */
export async function metricsRoutes(app: Api): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cordon_process_' });
  const db = app.cordon.db;
  const gauges = {
    open: new Gauge({ name: 'cordon_incidents_open', help: 'Incidents not closed, by severity', labelNames: ['severity'], registers: [registry] }),
    byStatus: new Gauge({ name: 'cordon_incidents', help: 'Incidents by status', labelNames: ['status'], registers: [registry] }),
    escalated: new Gauge({ name: 'cordon_incidents_escalated_open', help: 'Open incidents escalated to dedicated response', registers: [registry] }),
    awaiting: new Gauge({ name: 'cordon_actions_awaiting_approval', help: 'Containment steps waiting for an approver', registers: [registry] }),
    runs: new Gauge({ name: 'cordon_action_runs', help: 'Action runs by state', labelNames: ['state'], registers: [registry] }),
    timeToDetect: new Gauge({ name: 'cordon_time_to_detect_seconds', help: 'First sign of a problem to its detection, over all incidents', labelNames: ['quantile'], registers: [registry] }),
    timeToContain: new Gauge({ name: 'cordon_time_to_contain_seconds', help: 'Detection to verified containment, over all contained incidents', labelNames: ['quantile'], registers: [registry] }),
    exposure: new Gauge({ name: 'cordon_exposure_window_seconds', help: 'First sign of exposure to the credential or session proven unusable', labelNames: ['quantile'], registers: [registry] }),
  };

  async function refresh(): Promise<void> {
    const [overall, runs] = await Promise.all([
      overallMetrics(db, 0),
      db.selectFrom('actionRuns').select(['state', db.fn.countAll<string>().as('n')]).groupBy('state').execute(),
    ]);
    for (const g of Object.values(gauges)) g.reset();
    for (const [severity, n] of Object.entries(overall.incidents.openBySeverity)) gauges.open.set({ severity }, n);
    for (const [status, n] of Object.entries(overall.incidents.byStatus)) gauges.byStatus.set({ status }, n);
    gauges.escalated.set(overall.incidents.escalated);
    gauges.awaiting.set(overall.actionsAwaitingApproval);
    for (const r of runs) gauges.runs.set({ state: r.state }, Number(r.n));
    const quantiles = (gauge: Gauge, d: { p50Ms: number | null; p90Ms: number | null; maxMs: number | null }) => {
      if (d.p50Ms !== null) gauge.set({ quantile: '0.5' }, d.p50Ms / 1000);
      if (d.p90Ms !== null) gauge.set({ quantile: '0.9' }, d.p90Ms / 1000);
      if (d.maxMs !== null) gauge.set({ quantile: '1' }, d.maxMs / 1000);
    };
    quantiles(gauges.timeToDetect, overall.timeToDetect);
    quantiles(gauges.timeToContain, overall.timeToContain);
    quantiles(gauges.exposure, overall.exposureWindow);
  }

  app.get('/metrics', {
    config: { roles: READERS },
    schema: {
      summary: 'Prometheus metrics (text exposition format)', tags: ['incidents'],
      response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  }, async (_request, reply) => {
    await refresh();
    return reply.type(registry.contentType).serializer((v: unknown) => String(v)).send(await registry.metrics());
  });
}
