import { EventEmitter } from 'node:events';
import { bootstrapAdminToken, type BootstrapResult } from '../access/bootstrap.js';
import { tokenService } from '../access/tokens.js';
import { identityStatusGuard } from '../broker/guard.js';
import { identityLoader } from '../broker/identities.js';
import { brokerService } from '../broker/service.js';
import { loadBrokerSettings } from '../broker/settings.js';
import { detectionEngine } from '../detect/engine.js';
import { loadRules } from '../detect/rules.js';
import { ingestService } from '../ingest/pipeline.js';
import { identityResolver } from '../ingest/resolve.js';
import { discoveryService } from '../inventory/discovery.js';
import { IdentityGraph } from '../inventory/graph-index.js';
import { inventoryImporter } from '../inventory/import.js';
import { incidentService } from '../incidents/service.js';
import { routeTask, taskExists } from '../incidents/tasks.js';
import { cancelPendingRuns } from '../respond/runs.js';
import { RESPONSE_ACTOR } from '../respond/service.js';
import { fingerprinter } from '../secrets/fingerprint.js';
import { loadKeyring } from '../secrets/keyring.js';
import { sealer } from '../secrets/sealed.js';
import { decisionLog } from '../policy/decision-log.js';
import { inventoryFacts } from '../policy/facts.js';
import { policyService } from '../policy/service.js';
import { performerRegistry } from '../respond/actions/index.js';
import { approvalService } from '../respond/approvals.js';
import { secretDelivery } from '../respond/delivery.js';
import { actionExecutor } from '../respond/executor.js';
import { playbookCatalog } from '../respond/playbooks/catalog.js';
import { quarantineExpiry } from '../respond/quarantine.js';
import { readinessService } from '../respond/readiness.js';
import { responseService } from '../respond/service.js';
import { resolveSecretReference } from '../secrets/references.js';
import { openStore, type Store } from '../store/db.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/**
 * The services of one Cordon process, wired once. Each feature's factory takes only the pieces it
 * uses; API routes, CLI commands and workers receive this and call the services. A store opened
 * by the caller (tests) is used instead of the one the config names.
 */
export async function openContext(config: Config, logger: Logger, openedStore?: Store) {
  const keys = await loadKeyring({ dataDir: config.dataDir, fingerprintKey: config.fingerprintKey, masterKey: config.masterKey });
  const store: Store = openedStore
    ?? await openStore({
      databaseUrl: config.databaseUrl,
      pgliteDir: config.databaseUrl ? undefined : config.dataDir,
      onConnectionError: (error) => logger.warn({ err: error }, 'an idle database connection was dropped; it will be replaced'),
    });
  const db = store.db;
  const fingerprint = fingerprinter(keys.fingerprintKey);
  const secrets = sealer(keys.masterKey);
  const tokens = tokenService({ db });
  /** Emits `queued` when this process queues a job, so its worker need not wait for the next poll. */
  const jobSignal = new EventEmitter();
  const onQueued = () => jobSignal.emit('queued');
  const rules = await loadRules(config.rulesDir).catch(async (error) => {
    if (!openedStore) await store.close();
    throw error;
  });
  const detection = detectionEngine({ rules, onError: (error, what) => logger.warn({ err: error, what }, 'detection failed on an event') });
  const resolver = identityResolver(db);
  const decisions = decisionLog({ db, logger, sampleRate: config.decisionLogSample });
  const facts = inventoryFacts(db);
  const policies = policyService({ db, risk: facts, directory: facts, decisions, logger, policyDir: config.policyDir });
  const broker = brokerService({
    db, storeKind: store.kind, sealer: secrets, fingerprint, settings: loadBrokerSettings(process.env, config),
    // The built-in status guard, then the Cedar decision point for every audience of an exchange.
    guard: identityStatusGuard({ identities: identityLoader({ db }) }),
    policy: policies,
    onQueued,
    onError: (error) => logger.warn({ err: error }, 'broker background work failed; it will be retried'),
  });
  const graph = new IdentityGraph(db);
  const resolveSecret = (reference: string) => resolveSecretReference(reference, secrets);
  const quarantines = quarantineExpiry({ db, onQueued });
  const performers = performerRegistry({
    db, sealer: secrets, graph, broker, scheduleRelease: quarantines.scheduleRelease,
    notify: {
      resolveSecret, notifySigningSecret: config.notifySigningSecret,
      routeTask: (task) => routeTask(db, { id: task.key, incidentId: task.incidentId, team: task.team, kind: task.kind, title: task.title, detail: task.detail, source: task.source }, RESPONSE_ACTOR),
      taskExists: (key) => taskExists(db, key),
    },
  });
  const playbooks = playbookCatalog({ db, dir: config.playbookDir });
  const executor = actionExecutor({
    db, performers, sealer: secrets, fingerprint, logger: logger.child({ component: 'executor' }), onQueued,
    delivery: secretDelivery({ directory: config.deliveryDir, resolveSecret }),
    settings: { leaseMs: config.executor.leaseMs, backoffBaseMs: config.executor.backoffBaseMs, pollMs: config.executor.pollMs },
  });
  const incidents = incidentService({ db, graph, cancelPendingRuns });
  // A replay right after containment must meet the new statuses, not a cached lookup.
  executor.events.on('run', (run: { state: string }) => {
    if (run.state === 'verified') resolver.invalidate();
  });
  const responses = responseService({
    db, graph, catalog: playbooks, performers, onRunsReady: () => executor.wake(),
    onIncidentOpened: (incidentId, detectionId, actor) => incidents.collectOpening(incidentId, detectionId, actor)
      .catch((error) => logger.warn({ err: error, incidentId }, 'collecting a new incident\'s evidence failed')),
  });
  const approvals = approvalService({ db, onApproved: () => executor.wake() });
  const readiness = readinessService({ db, catalog: playbooks });
  return {
    config,
    logger,
    store,
    db,
    fingerprint,
    tokens,
    /** The identity graph in memory, kept in step with the store before each walk. */
    graph,
    inventory: inventoryImporter({ db, fingerprint, sealer: secrets }),
    discovery: discoveryService({ db, sealer: secrets, onQueued }),
    broker,
    rules,
    detection,
    resolver,
    events: ingestService({ db, fingerprint, sealer: secrets, resolver, detection, onQueued }),
    jobSignal,
    decisions,
    policies,
    playbooks,
    incidents,
    readiness,
    responses,
    approvals,
    executor,
    /** Handlers of the jobs response queues, for the worker. */
    responseJobHandlers: { ...responses.jobHandlers, ...approvals.jobHandlers, ...quarantines.jobHandlers },
    bootstrapAdmin: (): Promise<BootstrapResult> => bootstrapAdminToken({ db, tokens }, { dataDir: config.dataDir, envToken: config.adminToken }),
    close: async () => {
      await executor.stop();
      await performers.close();
      await broker.close();
      await detection.flush(db).catch((error) => logger.warn({ err: error }, 'baselines could not be written at shutdown'));
      await decisions.close();
      await store.close();
    },
  };
}

export type Context = Awaited<ReturnType<typeof openContext>>;
