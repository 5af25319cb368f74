import type { Problem } from './types';

/** An API answer that is not a success, carrying its problem details. */
export class ApiProblem extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.title}: ${problem.detail}`);
    this.name = 'ApiProblem';
    this.problem = problem;
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string {
    return this.problem.code;
  }
}

let token: string | null = null;
let onUnauthenticated: ((problem: ApiProblem) => void) | undefined;

/** The token every request carries until sign-out; kept in sessionStorage by the session. */
export function setApiToken(value: string | null): void {
  token = value;
}

export function apiToken(): string | null {
  return token;
}

/** Called when the API refuses the token (revoked, expired): the session signs out. */
export function onTokenRefused(handler: (problem: ApiProblem) => void): void {
  onUnauthenticated = handler;
}

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  json?: unknown;
  yaml?: string;
  accept?: string;
  headers?: Record<string, string>;
  /** A token other than the session's (signing in). */
  token?: string;
  signal?: AbortSignal;
}

export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers = new Headers({ ...options.headers, accept: options.accept ?? 'application/json' });
  const bearer = options.token ?? token;
  if (bearer) headers.set('authorization', `Bearer ${bearer}`);
  let body: string | undefined;
  if (options.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(options.json);
  } else if (options.yaml !== undefined) {
    headers.set('content-type', 'application/yaml');
    body = options.yaml;
  }
  let response: Response;
  try {
    response = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiProblem({
      type: 'about:blank', title: 'Cordon cannot be reached', status: 0, code: 'ERR_NETWORK', instance: path,
      detail: `the request to ${path} did not reach the server (${(error as Error).message})`,
    });
  }
  if (response.ok) return response;
  const problem = await problemOf(response, path);
  if (problem.status === 401 && !options.token) onUnauthenticated?.(problem);
  throw problem;
}

export async function getJson<T>(path: string, query?: Query, options: RequestOptions = {}): Promise<T> {
  return (await request(withQuery(path, query), options)).json() as Promise<T>;
}

export async function sendJson<T>(method: 'POST' | 'PUT' | 'PATCH', path: string, json: unknown): Promise<T> {
  return (await request(path, { method, json })).json() as Promise<T>;
}

export function postJson<T>(path: string, json: unknown): Promise<T> {
  return sendJson<T>('POST', path, json);
}

async function problemOf(response: Response, path: string): Promise<ApiProblem> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (typeof body.code === 'string' && typeof body.status === 'number') return new ApiProblem(body as Problem);
  } catch {
    // Not problem+json (a proxy's page): described below from the status alone.
  }
  return new ApiProblem({
    type: 'about:blank', title: response.statusText || 'Request failed', status: response.status, code: `ERR_HTTP_${response.status}`,
    instance: path, detail: text.slice(0, 300) || `the server answered ${response.status}`,
  });
}
