import Type, { type TObject, type TString } from 'typebox';
import { InvalidInputError, type CordonError, type Issue } from '../domain/errors.js';
import { isSecretReference, resolveSecretReference } from '../secrets/references.js';
import type { Sealer } from '../secrets/sealed.js';

/**
 * Secret connector parameters are never kept in clear. In an inventory they are given as
 * `env:NAME` or `file:PATH` (resolved when the connector is used) or as a value, which is
 * sealed on import and stored as `sealed:<JWE>`.
 */
const SECRET_MARK = 'x-cordon-secret';

export function secretParam(description: string): TString {
  return Type.String({ minLength: 1, description: `${description} (secret: env:NAME, file:PATH, or a value sealed on import)`, [SECRET_MARK]: true });
}

export function secretKeys(schema: TObject): string[] {
  return Object.entries(schema.properties)
    .filter(([, property]) => (property as Record<string, unknown>)[SECRET_MARK] === true)
    .map(([key]) => key);
}

/** Seals every secret parameter given as a value; references stay as they are. */
export async function sealSecretParams(schema: TObject, params: Record<string, unknown>, sealer: Pick<Sealer, 'seal'>): Promise<Record<string, unknown>> {
  const stored = { ...params };
  for (const key of secretKeys(schema)) {
    const value = stored[key];
    if (typeof value === 'string' && !isSecretReference(value)) stored[key] = `sealed:${await sealer.seal(value)}`;
  }
  return stored;
}

/** Replaces references with the secret values, for the moment a connector is used. */
export async function resolveSecretParams(schema: TObject, stored: Record<string, unknown>, sealer: Pick<Sealer, 'open'>): Promise<Record<string, unknown>> {
  const resolved = { ...stored };
  const issues: Issue[] = [];
  for (const key of secretKeys(schema)) {
    const value = stored[key];
    if (typeof value !== 'string' || !isSecretReference(value)) continue;
    try {
      resolved[key] = await resolveSecretReference(value, sealer);
    } catch (error) {
      if ((error as CordonError).code !== 'ERR_SECRET_REFERENCE') throw error;
      issues.push({ path: `/params/${key}`, message: (error as Error).message });
    }
  }
  if (issues.length) throw new InvalidInputError('ERR_CONNECTOR_SECRET', `connector secrets could not be resolved: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  return resolved;
}

/** What the API shows of stored parameters: references by name, sealed values as `sealed`. */
export function maskSecretParams(schema: TObject | undefined, stored: Record<string, unknown>): Record<string, unknown> {
  const shown = { ...stored };
  for (const key of schema ? secretKeys(schema) : []) {
    if (typeof shown[key] === 'string' && (shown[key] as string).startsWith('sealed:')) shown[key] = 'sealed';
  }
  return shown;
}
