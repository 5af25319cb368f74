import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApi, type Api } from '../../src/api/server.js';
import type { ApiRole } from '../../src/domain/roles.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { loadConfig } from '../../src/runtime/config.js';
import { openContext, type Context } from '../../src/runtime/context.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { Store } from '../../src/store/db.js';

/** Everything a log line said, kept so tests can search it. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    callback();
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface TestApp {
  app: Api;
  context: Context;
  logs: LogCapture;
  dataDir: string;
  /** One token per role, subjects `<role>-user`. */
  tokens: Record<ApiRole, string>;
  auth(role: ApiRole): { authorization: string };
  close(): Promise<void>;
}

/**
 * The API on a given store, not listening (use `app.inject`), with a token for every role.
 * `env` sets configuration the way the process environment would (CORDON_PLAYBOOK_DIR, …).
 */
export async function startTestApp(store: Store, env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cordon-test-'));
  const logs = new LogCapture();
  const logger = createLogger('info', logs);
  const context = await openContext({ ...loadConfig({ CORDON_DATA_DIR: dataDir, ...env }), dataDir }, logger, store);
  const app = await buildApi({ ...context, version: 'test' });
  const tokens = {} as Record<ApiRole, string>;
  for (const role of ['viewer', 'responder', 'approver', 'admin', 'workload'] as const) {
    tokens[role] = (await context.tokens.createToken({ name: role, subject: `${role}-user`, role }, SYSTEM_ACTOR)).token;
  }
  return {
    app, context, logs, dataDir, tokens,
    auth: (role) => ({ authorization: `Bearer ${tokens[role]}` }),
    async close() {
      await app.close();
      await context.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
