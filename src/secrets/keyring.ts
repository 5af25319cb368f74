import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../domain/errors.js';

export interface Keyring {
  /** HMAC key for credential fingerprints. */
  fingerprintKey: Uint8Array;
  /** Key that seals connector secrets and signing keys at rest. */
  masterKey: Uint8Array;
}

export interface KeySources {
  dataDir: string;
  /** base64url or hex of 32 bytes; when set the file in the data dir is not used. */
  fingerprintKey?: string;
  masterKey?: string;
}

/**
 * Loads the deployment's keys from the environment or from `<dataDir>/keys/` (created 0600 on
 * first use). Several processes sharing one PostgreSQL must share these keys: give them by env.
 */
export async function loadKeyring(sources: KeySources): Promise<Keyring> {
  return {
    fingerprintKey: await loadKey('CORDON_FINGERPRINT_KEY', sources.fingerprintKey, sources.dataDir, 'fingerprint.key'),
    masterKey: await loadKey('CORDON_MASTER_KEY', sources.masterKey, sources.dataDir, 'master.key'),
  };
}

async function loadKey(envName: string, given: string | undefined, dataDir: string, file: string): Promise<Uint8Array> {
  if (given) return decodeKey(envName, given);
  const dir = join(dataDir, 'keys');
  const path = join(dir, file);
  try {
    return decodeKey(path, (await readFile(path, 'utf8')).trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(path, key.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return decodeKey(path, (await readFile(path, 'utf8')).trim());
    throw error;
  }
}

function decodeKey(source: string, text: string): Uint8Array {
  const bytes = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64url');
  if (bytes.length !== 32) {
    throw new InvalidInputError('ERR_KEY_INVALID', `${source} must hold 32 bytes (hex or base64url), got ${bytes.length}`, [
      { path: source, message: 'must be 32 bytes' },
    ]);
  }
  return bytes;
}
