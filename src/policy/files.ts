import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../domain/errors.js';
import type { BundleInput } from './load.js';

/**
 * A policy directory: one `*.cedarschema`, any number of `*.cedar` files (read in name order) and
 * optionally `entities.json`. Documents are named by file name, so policy ids without `@id` are
 * `<file>#<n>` and errors read `<file>:<line>:<col>`.
 */
export async function readPolicyDir(dir: string): Promise<BundleInput> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    throw new InvalidInputError('ERR_POLICY_DIR', `cannot read the policy directory ${dir}: ${(error as Error).message}`, [{ path: dir, message: 'cannot be read' }]);
  }
  const schemas = names.filter((n) => n.endsWith('.cedarschema'));
  if (schemas.length !== 1) {
    throw new InvalidInputError('ERR_POLICY_DIR', `the policy directory ${dir} must hold exactly one .cedarschema file (found ${schemas.length})`, [{ path: dir, message: 'needs exactly one .cedarschema file' }]);
  }
  const read = async (name: string) => ({ name, text: await readFile(join(dir, name), 'utf8') });
  return {
    schema: await read(schemas[0]!),
    policies: await Promise.all(names.filter((n) => n.endsWith('.cedar')).map(read)),
    entities: names.includes('entities.json') ? await read('entities.json') : undefined,
  };
}
