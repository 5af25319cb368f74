import Type, { type TSchema } from 'typebox';

/** Shared pieces of route schemas: they validate, serialize and document at once. */

export const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const NullableDateTime = Type.Unsafe<Date | string | null>({ type: ['string', 'null'], format: 'date-time' });
export const Json = Type.Record(Type.String(), Type.Unknown());

export const Issue = Type.Object({
  path: Type.String(),
  message: Type.String(),
  source: Type.Optional(Type.String()),
  in: Type.Optional(Type.String()),
});

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'Stable error code, e.g. ERR_VALIDATION' }),
  instance: Type.String(),
  errors: Type.Optional(Type.Array(Issue)),
}, { description: 'RFC 9457 problem details (application/problem+json)' });

const problemResponse = { description: 'Problem details', content: { 'application/problem+json': { schema: Problem } } };

/** Responses of an authenticated route: the success body plus the problems it can answer with. */
export function responses<S extends TSchema>(status: 200 | 201 | 202, ok: S, extra: number[] = []) {
  const errors = Object.fromEntries([400, 401, 403, ...extra].map((code) => [code, problemResponse]));
  return { [status]: ok, ...errors } as { [K in typeof status]: S } & Record<number, unknown>;
}

export const Limit = (max: number, fallback: number) => Type.Integer({ minimum: 1, maximum: max, default: fallback });

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
