import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const EXAMPLE_INVENTORY = new URL('../../examples/inventory/', import.meta.url).pathname;

/** Every plaintext `value` the example inventory carries: none may be stored or logged. */
export function exampleSecretValues(): string[] {
  const values = new Set<string>();
  for (const file of readdirSync(EXAMPLE_INVENTORY).filter((f) => f.endsWith('.yaml'))) {
    const doc = parse(readFileSync(join(EXAMPLE_INVENTORY, file), 'utf8')) as { identities?: { credentials?: { value?: string }[] }[] };
    for (const identity of doc.identities ?? []) for (const c of identity.credentials ?? []) if (c.value) values.add(c.value);
  }
  return [...values];
}
