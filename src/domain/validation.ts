import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { InvalidInputError, type Issue } from './errors.js';

/** The shape TypeBox (and Ajv) report a schema violation in. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Turns schema errors into issues that name the field: a missing property is reported at its
 * own path, an unknown one too, an enum lists what is allowed. Errors about the same path are
 * reduced to the most telling one.
 */
export function schemaIssues(errors: Iterable<SchemaError>): Issue[] {
  const byPath = new Map<string, Issue & { rank: number }>();
  for (const error of errors) {
    const issue = describe(error);
    if (!issue) continue;
    const existing = byPath.get(issue.path);
    if (!existing || issue.rank < existing.rank) byPath.set(issue.path, issue);
  }
  return [...byPath.values()].map(({ path, message }) => ({ path, message }));
}

function describe(error: SchemaError): (Issue & { rank: number }) | undefined {
  const base = error.instancePath;
  const params = error.params;
  switch (error.keyword) {
    case 'required': {
      const missing = (params.requiredProperties ?? [params.missingProperty]) as string[];
      return { path: `${base}/${missing[0]}`, message: 'is required', rank: 0 };
    }
    case 'additionalProperties': {
      const extra = (params.additionalProperties ?? [params.additionalProperty]) as string[] | string;
      return { path: `${base}/${Array.isArray(extra) ? extra[0] : extra}`, message: 'is not an allowed field', rank: 0 };
    }
    case 'boolean':
      // TypeBox reports the same unknown field again as "schema is false".
      return undefined;
    case 'enum':
      return { path: base, message: `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`, rank: 1 };
    case 'anyOf':
    case 'oneOf':
      return { path: base, message: 'does not match any allowed form', rank: 3 };
    case 'const':
      return { path: base, message: `must be ${JSON.stringify(params.allowedValue)}`, rank: 2 };
    default:
      return { path: base || '/', message: error.message ?? error.keyword, rank: 1 };
  }
}

export interface Validator<S extends TSchema> {
  schema: S;
  check(value: unknown): value is Static<S>;
  /** Returns the value typed, or the issues found. */
  issues(value: unknown): Issue[];
  /** Returns the value typed, or throws `InvalidInputError` with `code`. */
  parse(value: unknown, code: string, what: string): Static<S>;
}

export function validator<S extends TSchema>(schema: S): Validator<S> {
  const compiled = Compile(schema);
  const issues = (value: unknown) => schemaIssues(compiled.Errors(value) as SchemaError[]);
  return {
    schema,
    check: (value): value is Static<S> => compiled.Check(value),
    issues,
    parse(value, code, what) {
      if (compiled.Check(value)) return value as Static<S>;
      const found = issues(value);
      throw new InvalidInputError(code, `${what} is invalid: ${found.map((i) => `${i.path} ${i.message}`).join('; ')}`, found);
    },
  };
}
