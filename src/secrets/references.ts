import { readFile } from 'node:fs/promises';
import { CordonError } from '../domain/errors.js';
import type { Sealer } from './sealed.js';

/**
 * A secret Cordon must use but never keeps in clear is written as a reference: `env:NAME` (an
 * environment variable), `file:PATH` (a file's content, trailing newline dropped) or
 * `sealed:<JWE>` (sealed under the deployment's master key).
 */
export const SECRET_REFERENCE = /^(env|file|sealed):(.+)$/s;

export function isSecretReference(value: string): boolean {
  return SECRET_REFERENCE.test(value);
}

/** Resolves a reference to the secret; throws `ERR_SECRET_REFERENCE` saying what is missing. */
export async function resolveSecretReference(reference: string, sealer: Pick<Sealer, 'open'>): Promise<string> {
  const match = SECRET_REFERENCE.exec(reference);
  if (!match) throw new CordonError('ERR_SECRET_REFERENCE', 'not a secret reference (env:NAME, file:PATH or sealed:…)');
  const [, scheme, target] = match as unknown as [string, string, string];
  if (scheme === 'env') {
    const value = process.env[target];
    if (value === undefined) throw new CordonError('ERR_SECRET_REFERENCE', `environment variable ${target} is not set`);
    return value;
  }
  if (scheme === 'file') {
    try {
      return (await readFile(target, 'utf8')).trimEnd();
    } catch (error) {
      throw new CordonError('ERR_SECRET_REFERENCE', `cannot read ${target}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return sealer.open(target);
}
