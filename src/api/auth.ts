import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal, TokenService } from '../access/tokens.js';
import { principalActor } from '../access/tokens.js';
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.js';
import type { Actor, ApiRole } from '../domain/roles.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles admitted to the route. A route must name its roles or be `public`. */
    roles?: readonly ApiRole[];
    /** Health, JWKS and discovery only. */
    public?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    /** Every route with the roles it admits, as registered (tests walk it). */
    guardedRoutes: GuardedRoute[];
  }
}

export interface GuardedRoute {
  method: string;
  url: string;
  roles: readonly ApiRole[];
  public: boolean;
}

/**
 * Authenticates every request with a bearer API token and checks the route's roles, before the
 * body is even read. A route that declares neither roles nor `public` is refused at start-up.
 */
export function registerAuth(app: FastifyInstance, tokens: Pick<TokenService, 'authenticate'>): void {
  const routes: GuardedRoute[] = [];
  app.decorate('guardedRoutes', routes);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { roles?: readonly ApiRole[]; public?: boolean };
    if (!config.public && !config.roles?.length) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no roles and is not public: refusing to serve it`);
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, roles: config.roles ?? [], public: config.public === true });
    }
  });
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public) return;
    const principal = await tokens.authenticate(bearerToken(request));
    const roles = config.roles ?? [];
    if (!roles.includes(principal.role)) {
      throw new ForbiddenError('ERR_ROLE_FORBIDDEN', `role "${principal.role}" may not ${request.method} ${request.routeOptions.url}; allowed: ${roles.join(', ') || 'none'}`);
    }
    request.principal = principal;
  });
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new UnauthenticatedError('ERR_TOKEN_MISSING', 'an API token is required: Authorization: Bearer <token>');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthenticatedError('ERR_TOKEN_MALFORMED', 'the Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/** The actor for the audit chain; only called on authenticated routes. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.principal) throw new UnauthenticatedError('ERR_TOKEN_MISSING', 'an API token is required');
  return principalActor(request.principal);
}
