import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../domain/errors.js';

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * PGlite is one process's database: a second process opening the same directory would corrupt
 * it. The lock file holds the owner's pid; a lock left by a process that no longer runs is taken
 * over.
 */
export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, 'cordon.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && isRunning(owner)) {
        throw new ConflictError(
          'ERR_STORE_LOCKED',
          `the embedded store in ${dataDir} is in use by process ${owner}; stop it first, or point both at PostgreSQL with DATABASE_URL`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new ConflictError('ERR_STORE_LOCKED', `could not lock ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
