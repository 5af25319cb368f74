import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ConflictError, CordonError, ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError, UnavailableError,
  type Issue,
} from '../domain/errors.js';
import { schemaIssues, type SchemaError } from '../domain/validation.js';

/** RFC 9457 problem details, with Cordon's stable `code` and the offending fields. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  errors?: Issue[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_CLASS: [new (...args: never[]) => CordonError, number, string][] = [
  [InvalidInputError, 400, 'Invalid input'],
  [UnauthenticatedError, 401, 'Authentication required'],
  [ForbiddenError, 403, 'Forbidden'],
  [NotFoundError, 404, 'Not found'],
  [ConflictError, 409, 'Conflict'],
  [UnavailableError, 503, 'Unavailable'],
];

/** Fastify's own request errors, given codes of ours that do not change with Fastify versions. */
const FRAMEWORK_CODES: Record<number, [string, string]> = {
  400: ['ERR_BAD_REQUEST', 'Bad request'],
  404: ['ERR_NOT_FOUND', 'Not found'],
  405: ['ERR_METHOD_NOT_ALLOWED', 'Method not allowed'],
  406: ['ERR_NOT_ACCEPTABLE', 'Not acceptable'],
  413: ['ERR_BODY_TOO_LARGE', 'Body too large'],
  415: ['ERR_UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type'],
};

export function toProblem(error: unknown, instance: string): Problem {
  const validation = (error as FastifyError).validation;
  if (validation) {
    const location = (error as FastifyError).validationContext ?? 'body';
    const errors = schemaIssues(validation as unknown as SchemaError[]).map((i) => ({ ...i, in: location }));
    return problem(400, 'ERR_VALIDATION', 'Invalid request', `the request ${location} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, instance, errors);
  }
  if (error instanceof CordonError) {
    const [, status, title] = STATUS_BY_CLASS.find(([cls]) => error instanceof cls) ?? [CordonError, 500, 'Error'];
    const issues = error instanceof InvalidInputError && error.issues.length ? error.issues : undefined;
    return problem(status, error.code, title, error.message, instance, issues);
  }
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    const [code, title] = FRAMEWORK_CODES[status] ?? [`ERR_HTTP_${status}`, 'Request error'];
    return problem(status, code, title, (error as Error).message, instance);
  }
  return problem(500, 'ERR_INTERNAL', 'Internal error', 'an unexpected error occurred; it has been logged', instance);
}

function problem(status: number, code: string, title: string, detail: string, instance: string, errors?: Issue[]): Problem {
  return { type: `https://cordon.dev/problems/${code.toLowerCase().replace(/^err_/, '').replace(/_/g, '-')}`, title, status, detail, code, instance, ...(errors ? { errors } : {}) };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  if (p.status === 401) reply.header('www-authenticate', 'Bearer realm="cordon"');
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
}

/** Every error leaves the API as problem+json; unexpected ones are logged, not shown. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request: FastifyRequest, reply) => {
    const p = toProblem(error, request.url);
    if (p.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, toProblem(new NotFoundError('ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), request.url)));
}
