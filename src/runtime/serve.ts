import { buildApi, type Api } from '../api/server.js';
import { startNatsInput, type NatsInput } from '../ingest/nats.js';
import type { Store } from '../store/db.js';
import type { Config } from './config.js';
import { openContext, type Context } from './context.js';
import type { Logger } from './logger.js';
import { VERSION } from './version.js';
import { startWorker, type Worker } from './worker.js';

export type ServeRole = 'api' | 'worker' | 'all';

export interface Server {
  context: Context;
  api?: Api;
  worker?: Worker;
  /** The JetStream input, when `CORDON_NATS_URL` is set and this process runs workers. */
  natsInput?: NatsInput;
  /** Where the API listens, when it does. */
  url?: string;
  close(): Promise<void>;
}

/**
 * One Cordon process: the API, the workers, or both, on one store. Several processes on one
 * PostgreSQL share the work through the database.
 */
export async function startServer(config: Config, logger: Logger, options: { role: ServeRole; store?: Store; onAdminToken?: (token: string, file: string) => void }): Promise<Server> {
  const context = await openContext(config, logger, options.store);
  let api: Api | undefined;
  let worker: Worker | undefined;
  let natsInput: NatsInput | undefined;
  try {
    const admin = await context.bootstrapAdmin();
    // Refuse to start on playbooks that do not validate, rather than fail the first response.
    await context.playbooks.ready();
    if (admin.generated) options.onAdminToken?.(admin.generated.token, admin.generated.file);
    if (options.role !== 'api') {
      worker = startWorker({
        db: context.db, logger: logger.child({ component: 'worker' }), signal: context.jobSignal,
        handlers: { ...context.discovery.jobHandlers, ...context.broker.jobHandlers, ...context.responseJobHandlers },
      });
      context.executor.start();
      await context.broker.schedule();
      if (config.nats) natsInput = await startNatsInput({ events: context.events, logger: logger.child({ component: 'nats' }) }, config.nats);
    }
    let url: string | undefined;
    if (options.role !== 'worker') {
      // Load the in-memory identity graph now rather than on the first blast radius request.
      context.graph.sync().catch((error) => logger.warn({ err: error }, 'loading the identity graph failed; it will load on first use'));
      // Load (or refuse) the policy set before taking requests, not on the first one.
      await context.policies.ready();
      api = await buildApi({ ...context, version: VERSION });
      url = await api.listen({ host: config.host, port: config.port });
    }
    let closing: Promise<void> | undefined;
    return {
      context, api, worker, natsInput, url,
      close: () => (closing ??= (async () => {
        await api?.close();
        await natsInput?.stop();
        await worker?.stop();
        await context.close();
      })()),
    };
  } catch (error) {
    await api?.close();
    await natsInput?.stop();
    await worker?.stop();
    await context.close();
    throw error;
  }
}
