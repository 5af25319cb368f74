import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInventorySources } from '../inventory/source.js';
import { loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { startServer, type Server } from '../runtime/serve.js';
import { preparePostgres } from './postgres.js';
import { DEMO_ACTOR, LEAKED_PASSWORD, playScenario, simulatePostgres, type DemoSummary } from './scenario.js';

const EXAMPLE_INVENTORY = fileURLToPath(new URL('../../examples/inventory/', import.meta.url));
const MARKER = '.cordon-demo';

export interface DemoOptions {
  dataDir: string;
  port: number;
  /** Keep serving after the summary (until interrupted). */
  serve: boolean;
  /** Use the simulated PostgreSQL even where the real one could be used. */
  simulate: boolean;
  out(line: string): void;
}

/** A fresh data directory: one the demo made before is wiped, anything else is refused. */
async function freshDataDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => null);
  if (entries && entries.length > 0) {
    const ours = await access(join(dir, MARKER)).then(() => true, () => false);
    if (!ours) throw new Error(`${dir} is not empty and was not made by the demo: give another --data-dir`);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, MARKER), 'made by bin/cordon demo; wiped by the next run\n');
}

async function start(dataDir: string, port: number): Promise<Server> {
  const logger = createLogger(process.env.CORDON_LOG_LEVEL ?? 'warn', process.stderr as never);
  const config = loadConfig({ ...process.env, CORDON_DATA_DIR: dataDir, CORDON_PORT: String(port), DATABASE_URL: '' });
  try {
    return await startServer(config, logger, { role: 'all' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startServer({ ...config, port: 0 }, logger, { role: 'all' });
  }
}

const minutes = (ms: number | null) => (ms === null ? '—' : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`);

/**
 * `bin/cordon demo`: the example inventory on a fresh embedded store, the scripted attack against
 * the local PostgreSQL (or, where it cannot be used, a simulated one, labelled as such), and a
 * summary read back from what Cordon stored.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { out } = options;
  await freshDataDir(options.dataDir);
  const demoRoles = [{ name: 'cordon_demo_payments_api', password: LEAKED_PASSWORD }, { name: 'cordon_demo_payments_reconciler', password: LEAKED_PASSWORD }];
  const postgres = options.simulate ? { reason: 'asked for with --simulate' } as { target?: undefined; reason: string } : await preparePostgres(demoRoles);
  const sources = await readInventorySources([EXAMPLE_INVENTORY]);
  if (!postgres.target) {
    simulatePostgres(sources);
    out(`PostgreSQL: SIMULATED — ${postgres.reason}. The payments roles live in a simulated system in this process; everything it proves is marked SIMULATED.`);
  } else {
    out('PostgreSQL: real (127.0.0.1:5432, database test): roles cordon_demo_payments_api and cordon_demo_payments_reconciler, password from the example inventory.');
  }
  const server = await start(options.dataDir, options.port);
  try {
    const url = server.url!;
    const imported = await server.context.inventory.importSources(sources, DEMO_ACTOR);
    out(`Cordon is running on ${url} (embedded store in ${options.dataDir}); example inventory imported: ${imported.identities.created + imported.identities.updated + imported.identities.unchanged} identities.`);
    const sender = (await server.context.tokens.createToken({ name: 'demo signals', subject: 'soc-automation', role: 'responder' }, DEMO_ACTOR)).token;
    const approver = (await server.context.tokens.createToken({ name: 'demo approver', subject: 'dana', role: 'approver' }, DEMO_ACTOR)).token;
    const summary = await playScenario({ server, url, tokens: { sender, approver }, simulated: !postgres.target, out }, postgres.target);

    out('\n== Summary (read back from the store)');
    out(`detections: ${summary.detections.map((d) => `${d.count} ${d.type}`).join(', ')}`);
    out(`actions: ${Object.entries(summary.actions).map(([state, n]) => `${n} ${state}`).join(', ')}; approvals given: ${summary.approvals}`);
    out(`time to contain (p50): ${minutes(summary.timeToContainP50Ms)}; exposure window (p50, from the leaking commit): ${minutes(summary.exposureWindowP50Ms)}`);
    for (const incident of summary.incidents) {
      out(`incident ${incident.id}: ${incident.status}${incident.escalated ? ', escalated to dedicated response' : ''} — ${incident.title}`);
      out(`  evidence: ${incident.evidenceItems} item(s), chain ${incident.evidenceOk ? 'intact' : 'BROKEN'}`);
      out(`  ${url}/v1/incidents/${incident.id}`);
      out(`  ${url}/v1/incidents/${incident.id}/report?format=md`);
      out(`  console: ${url}/incidents/${incident.id}`);
    }
    out(`\nThe API wants a token: Authorization: Bearer $(cat ${join(options.dataDir, 'admin-token')})`);
    out(options.serve ? 'Serving until interrupted (Ctrl-C).' : `To look around afterwards: CORDON_DATA_DIR=${options.dataDir} npm start (or bin/cordon demo --serve).`);
    if (options.serve) {
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return summary;
  } finally {
    await server.close();
  }
}
