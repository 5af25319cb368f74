import { UnavailableError } from '../../domain/errors.js';
import { targetNotFound, unreachable } from '../failures.js';
import type { RabbitmqParams } from './params.js';

export function managementServer(params: RabbitmqParams): string {
  return `RabbitMQ management API at ${params.managementTls ? 'https' : 'http'}://${params.host}:${params.managementPort}`;
}

/** A user as `GET /api/users/{name}` describes it. */
export interface RabbitUser {
  name: string;
  password_hash: string;
  tags: string[];
  limits: { 'max-connections'?: number; 'max-channels'?: number };
}

/** A live connection as the broker tracks it (`/api/connections/username/{name}`: no stats delay). */
export interface TrackedConnection {
  name: string;
  vhost: string;
  user: string;
}

export interface ManagementApi {
  get<T>(path: string): Promise<T | undefined>;
  put(path: string, body: unknown): Promise<void>;
  delete(path: string, reason?: string): Promise<void>;
  user(name: string): Promise<RabbitUser>;
}

/** The management plugin's HTTP API; every request bounded by the connect timeout. */
export function managementApi(params: RabbitmqParams): ManagementApi {
  const server = managementServer(params);
  const base = `${params.managementTls ? 'https' : 'http'}://${params.host}:${params.managementPort}/api`;
  const authorization = `Basic ${Buffer.from(`${params.user}:${params.password ?? ''}`).toString('base64')}`;

  async function request(method: string, path: string, body?: unknown, reason?: string): Promise<Response | undefined> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization, 'content-type': 'application/json', ...(reason ? { 'x-reason': reason } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(params.connectTimeoutMs ?? 5000),
      });
    } catch (error) {
      throw unreachable(server, (error as Error).cause ?? error);
    }
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw new UnavailableError('ERR_CONNECTOR_FAILED', `${server}: ${method} ${path} answered ${response.status} ${(await response.text()).slice(0, 200)}`);
    }
    return response;
  }

  const api: ManagementApi = {
    async get<T>(path: string) {
      const response = await request('GET', path);
      return response ? await response.json() as T : undefined;
    },
    async put(path, body) {
      await request('PUT', path, body);
    },
    async delete(path, reason) {
      await request('DELETE', path, undefined, reason);
    },
    async user(name) {
      const user = await api.get<RabbitUser>(`/users/${encodeURIComponent(name)}`);
      if (!user) throw targetNotFound(`user "${name}"`, server);
      return user;
    },
  };
  return api;
}
