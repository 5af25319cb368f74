/**
 * Every error Cordon raises on purpose carries a stable `code` that callers (the API, the CLI,
 * tests) match on. The class says what kind of failure it is; `api/problem.ts` maps the class
 * to an HTTP status, so no feature module knows about HTTP.
 */

export interface Issue {
  /** JSON pointer-like path inside the input, e.g. `/identities/3/credentials/0/type`. */
  path: string;
  message: string;
  /** Where the input came from, when it came from a file (`examples/x.yaml:12:5`). */
  source?: string;
  /** Which part of an HTTP request: `body`, `querystring`, `params`, `headers`. */
  in?: string;
}

export class CordonError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The input is malformed; `issues` names each offending field. */
export class InvalidInputError extends CordonError {
  readonly issues: Issue[];
  constructor(code: string, message: string, issues: Issue[] = []) {
    super(code, message);
    this.issues = issues;
  }
}

export class NotFoundError extends CordonError {}
export class ConflictError extends CordonError {}
export class UnauthenticatedError extends CordonError {}
export class ForbiddenError extends CordonError {}
/** A dependency (a connector's server, the store) cannot be reached or failed. */
export class UnavailableError extends CordonError {}
