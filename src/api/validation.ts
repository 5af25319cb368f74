import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * Validates with TypeBox's compiled checker. Query strings, params and headers arrive as
 * strings: defaults are filled and values converted to the schema's types first. Bodies are
 * checked as sent, with defaults filled.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const compiled = Compile(schema);
  return (value: unknown) => {
    const withDefaults = Value.Default(schema, value);
    const prepared = httpPart === 'body' ? withDefaults : Value.Convert(schema, withDefaults);
    if (compiled.Check(prepared)) return { value: prepared };
    return { error: compiled.Errors(prepared) as never };
  };
};
