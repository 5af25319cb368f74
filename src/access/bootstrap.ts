import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../domain/roles.js';
import type { Db } from '../store/db.js';
import { hashToken, type TokenService } from './tokens.js';

export interface BootstrapResult {
  /** Set only when a token was generated now: the one time it is shown. */
  generated?: { token: string; file: string };
  fromEnv: boolean;
}

/**
 * SPEC §4: `CORDON_ADMIN_TOKEN` makes that value an admin token; otherwise, on first start (no
 * admin token yet), one is generated, returned to be printed once and written to
 * `<dataDir>/admin-token` with mode 0600.
 */
export async function bootstrapAdminToken(
  deps: { db: Db; tokens: Pick<TokenService, 'createToken' | 'hasAdmin'> },
  options: { dataDir: string; envToken?: string },
): Promise<BootstrapResult> {
  if (options.envToken) {
    const exists = await deps.db.selectFrom('apiTokens').select('id').where('tokenHash', '=', hashToken(options.envToken)).executeTakeFirst();
    if (!exists) {
      await deps.tokens.createToken({ name: 'admin (CORDON_ADMIN_TOKEN)', subject: 'admin', role: 'admin', token: options.envToken }, SYSTEM_ACTOR);
    }
    return { fromEnv: true };
  }
  if (await deps.tokens.hasAdmin()) return { fromEnv: false };
  const { token } = await deps.tokens.createToken({ name: 'admin (first start)', subject: 'admin', role: 'admin' }, SYSTEM_ACTOR);
  const file = join(options.dataDir, 'admin-token');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { generated: { token, file }, fromEnv: false };
}
