/**
 * Cordon broker SDK for workloads: exchange the platform's workload token (GitHub Actions OIDC, a
 * Kubernetes projected service-account token, a SPIFFE JWT-SVID…) for short-lived Cordon tokens,
 * get them again before they expire, delegate, and end the task. Standalone: it speaks HTTP with
 * `fetch` and imports nothing from the server.
 */
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

export interface BrokerClientOptions {
  /** Cordon's base URL, e.g. `https://cordon.internal:7700`. */
  baseUrl: string;
  /** An API token with the `workload` role: how this client authenticates to Cordon. */
  apiToken: string;
  /**
   * The workload's own token, read each time one is needed (platforms rotate them: a projected
   * token file, `ACTIONS_ID_TOKEN_REQUEST_URL`, the SPIFFE Workload API).
   */
  workloadToken: () => string | Promise<string>;
  workloadTokenType?: string;
  /** Get a new token this long before the current one expires (default 30 s, at most half its life). */
  refreshBeforeSeconds?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface TokenRequest {
  audience?: string | string[];
  /** Space-delimited or a list. */
  scope?: string | string[];
}

export interface Task {
  id: string;
  identityId: string;
  purpose: string;
  status: 'active' | 'ended' | 'expired';
  expiresAt: string;
}

export interface DatabaseCredentials {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  validUntil: string;
}

/** A refusal from Cordon: the OAuth `error` (or problem `code`) and what it said. */
export class BrokerError extends Error {
  constructor(readonly status: number, readonly error: string, readonly description: string) {
    super(`${error}: ${description}`);
    this.name = 'BrokerError';
  }
}

interface Cached {
  token: string;
  refreshAt: number;
}

export class BrokerClient {
  readonly #options: BrokerClientOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<string>>();
  #task: Task | undefined;

  constructor(options: BrokerClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
  }

  /** The task tokens are bound to, when one was started. */
  get task(): Task | undefined {
    return this.#task;
  }

  /** Starts a task; tokens asked for afterwards are bound to it and die when it ends. */
  async startTask(input: { purpose: string; ttlSeconds?: number }): Promise<Task> {
    const task = await this.#json<Task>('POST', '/v1/tasks', { subjectToken: await this.#options.workloadToken(), subjectTokenType: this.#type(), ...input });
    this.#task = task;
    this.#cache.clear();
    return task;
  }

  /**
   * A Cordon access token for the audience and scope: the cached one while it has more than the
   * refresh margin left, otherwise a fresh exchange of the workload token.
   */
  async token(request: TokenRequest = {}): Promise<string> {
    const key = JSON.stringify([list(request.audience), list(request.scope), this.#task?.id ?? null]);
    const cached = this.#cache.get(key);
    if (cached && this.#now() < cached.refreshAt) return cached.token;
    let pending = this.#inflight.get(key);
    if (!pending) {
      // Registered before anything is awaited, so concurrent callers share one exchange.
      pending = Promise.resolve(this.#options.workloadToken()).then((workloadToken) => this.#exchange({
        subject_token: workloadToken, subject_token_type: this.#type(),
        audience: list(request.audience), scope: list(request.scope).join(' ') || undefined, task_id: this.#task?.id,
      })).then((issued) => {
        this.#cache.set(key, issued);
        return issued.token;
      }).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /**
   * Acts for another identity: exchanges the token it handed over (`subjectToken`) with this
   * workload's own token as the actor. The result carries both in `act`, and only narrows.
   */
  async delegate(subjectToken: string, request: TokenRequest = {}): Promise<string> {
    const issued = await this.#exchange({
      subject_token: subjectToken, subject_token_type: ACCESS_TOKEN,
      actor_token: await this.#options.workloadToken(), actor_token_type: this.#type(),
      audience: list(request.audience), scope: list(request.scope).join(' ') || undefined,
    });
    return issued.token;
  }

  /** RFC 7662 introspection, for a resource server checking a token it was given. */
  introspect(token: string): Promise<{ active: boolean } & Record<string, unknown>> {
    return this.#form('/oauth2/introspect', { token });
  }

  /** RFC 7009 revocation of a token and everything derived from it. */
  async revoke(token: string): Promise<void> {
    await this.#form('/oauth2/revoke', { token });
    for (const [key, cached] of this.#cache) if (cached.token === token) this.#cache.delete(key);
  }

  /** A temporary PostgreSQL login for the current task; the password is not kept by Cordon. */
  async databaseCredentials(input: { connector: string; roles?: string[] }): Promise<DatabaseCredentials> {
    const task = this.#requireTask();
    return this.#json<DatabaseCredentials>('POST', `/v1/tasks/${encodeURIComponent(task.id)}/database-credentials`, {
      subjectToken: await this.#options.workloadToken(), subjectTokenType: this.#type(), ...input,
    });
  }

  /** Ends the current task: every token issued for it stops working and its database roles are dropped. */
  async endTask(reason?: string): Promise<{ revokedTokens: string[]; droppedRoles: string[] }> {
    const task = this.#requireTask();
    const ended = await this.#json<{ revokedTokens: string[]; droppedRoles: string[] }>('POST', `/v1/tasks/${encodeURIComponent(task.id)}/end`, {
      subjectToken: await this.#options.workloadToken(), subjectTokenType: this.#type(), ...(reason ? { reason } : {}),
    });
    this.#task = undefined;
    this.#cache.clear();
    return ended;
  }

  #type(): string {
    return this.#options.workloadTokenType ?? JWT;
  }

  #requireTask(): Task {
    if (!this.#task) throw new Error('no task: call startTask() first');
    return this.#task;
  }

  async #exchange(params: Record<string, string | string[] | undefined>): Promise<Cached> {
    const issuedAt = this.#now();
    const body = await this.#form<{ access_token: string; expires_in: number }>('/oauth2/token', { grant_type: TOKEN_EXCHANGE, ...params });
    const life = body.expires_in * 1000;
    const margin = Math.min((this.#options.refreshBeforeSeconds ?? 30) * 1000, life / 2);
    return { token: body.access_token, refreshAt: issuedAt + life - margin };
  }

  async #form<T>(path: string, params: Record<string, string | string[] | undefined>): Promise<T> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) for (const v of value === undefined ? [] : [value].flat()) body.append(key, v);
    return this.#request<T>('POST', path, body.toString(), 'application/x-www-form-urlencoded');
  }

  #json<T>(method: string, path: string, payload: Record<string, unknown>): Promise<T> {
    return this.#request<T>(method, path, JSON.stringify(payload), 'application/json');
  }

  async #request<T>(method: string, path: string, body: string, contentType: string): Promise<T> {
    const response = await this.#fetch(`${this.#options.baseUrl}${path}`, {
      method, body, headers: { authorization: `Bearer ${this.#options.apiToken}`, 'content-type': contentType, accept: 'application/json' },
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) as Record<string, unknown> : {};
    if (!response.ok) {
      throw new BrokerError(response.status, String(parsed.error ?? parsed.code ?? response.status), String(parsed.error_description ?? parsed.detail ?? text));
    }
    return parsed as T;
  }
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(' ')).filter((v) => v !== '');
}
