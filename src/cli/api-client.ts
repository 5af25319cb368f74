import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { join } from 'node:path';
import { CordonError, InvalidInputError, type Issue } from '../domain/errors.js';
import { loadConfig } from '../runtime/config.js';

/** Where the CLI reaches a running Cordon, and as whom. */
export interface ApiTarget {
  url: string;
  token: string;
}

/**
 * Commands that act as a person (approving, denying) go through the API with that person's token,
 * so roles and separation of duties are the API's: `--token`, `CORDON_TOKEN`, or the admin token
 * file of the data directory. The server is `--url`, `CORDON_URL`, or the local one.
 */
export async function apiTarget(options: { url?: string; token?: string }): Promise<ApiTarget> {
  const config = loadConfig();
  const url = (options.url ?? process.env.CORDON_URL ?? `http://${config.host}:${config.port}`).replace(/\/+$/, '');
  let token = options.token ?? process.env.CORDON_TOKEN;
  if (!token) {
    const file = join(config.dataDir, 'admin-token');
    token = (await readFile(file, 'utf8').catch(() => {
      throw new CordonError('ERR_CLI_TOKEN', `no API token: pass --token, set CORDON_TOKEN, or run where ${file} exists`);
    })).trim();
  }
  return { url, token };
}

/** One API call; a problem+json answer becomes an error carrying its code and fields. */
async function send(target: ApiTarget, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  } catch (error) {
    throw new CordonError('ERR_CLI_UNREACHABLE', `Cordon at ${target.url} could not be reached: ${(error as Error).message} (start it with npm start, or pass --url)`);
  }
  const text = await response.text();
  if (!response.ok) {
    const problem = (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>;
    const issues = (problem.errors as Issue[] | undefined) ?? [];
    const code = String(problem.code ?? `ERR_HTTP_${response.status}`);
    const message = `${response.status} ${String(problem.detail ?? response.statusText)}`;
    throw issues.length ? new InvalidInputError(code, message, issues) : new CordonError(code, message);
  }
  return text;
}

export async function callApi<T>(target: ApiTarget, method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const text = await send(target, method, path, body, contentType);
  return (text ? JSON.parse(text) : {}) as T;
}

/** A GET whose answer is text (a report, an export). */
export function callApiText(target: ApiTarget, path: string): Promise<string> {
  return send(target, 'GET', path);
}

/** The options every API-backed command takes. */
export interface Connection {
  url?: string;
  token?: string;
}

export function withConnection(command: Command): Command {
  return command
    .option('--url <url>', 'Cordon\'s API (default: CORDON_URL, or the local server)')
    .option('--token <token>', 'an API token (default: CORDON_TOKEN, or the admin token file)');
}
