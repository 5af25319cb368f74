import { loadConfig } from '../runtime/config.js';
import { openContext, type Context } from '../runtime/context.js';
import { createLogger } from '../runtime/logger.js';

/**
 * Runs a CLI command against the configured store (the embedded one in CORDON_DATA_DIR, or
 * DATABASE_URL) and closes it afterwards. Logs go to stderr so stdout stays the command's output.
 */
export async function withContext<T>(run: (context: Context) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(process.env.CORDON_LOG_LEVEL ?? 'warn', process.stderr as never);
  const context = await openContext(config, logger);
  try {
    return await run(context);
  } finally {
    await context.close();
  }
}

/** Who a CLI command acts as, in the audit chain. */
export function cliActor() {
  const user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  return { id: `cli:${user}`, subject: user };
}
