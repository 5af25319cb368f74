import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config.js';
import { createLogger } from '../../runtime/logger.js';
import { startServer, type ServeRole } from '../../runtime/serve.js';

export function serveCommand(program: Command): void {
  program.command('serve')
    .description('run the API, the workers, or both (default) on the configured store')
    .option('--role <role>', 'api | worker | all', 'all')
    .option('--port <port>', 'port to listen on (default CORDON_PORT or 7700)')
    .action(async (options: { role: string; port?: string }) => {
      if (!['api', 'worker', 'all'].includes(options.role)) throw new Error(`--role must be api, worker or all, not "${options.role}"`);
      const config = loadConfig(options.port ? { ...process.env, CORDON_PORT: options.port } : process.env);
      const logger = createLogger(config.logLevel);
      const server = await startServer(config, logger, {
        role: options.role as ServeRole,
        onAdminToken: (token, file) => {
          process.stdout.write(`\nAdmin API token (shown once; also saved to ${file}, mode 0600):\n  ${token}\n\n`);
        },
      });
      const where = server.url ? ` on ${server.url}` : '';
      process.stdout.write(`Cordon ${options.role} is running${where} (store: ${server.context.store.kind}${server.context.store.kind === 'pglite' ? ` in ${config.dataDir}` : ''})\n`);
      const shutdown = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        server.close().then(() => process.exit(0), (error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        });
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
}
