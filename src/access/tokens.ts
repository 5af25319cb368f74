import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { NotFoundError, UnauthenticatedError } from '../domain/errors.js';
import type { Actor, ApiRole } from '../domain/roles.js';
import type { Db } from '../store/db.js';

/** Token prefix: makes a leaked Cordon token recognisable to secret scanners. */
const PREFIX = 'cdn_';

export interface ApiTokenInfo {
  id: string;
  name: string;
  subject: string;
  role: ApiRole;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface Principal {
  tokenId: string;
  subject: string;
  role: ApiRole;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function principalActor(principal: Principal): Actor {
  return { id: `token:${principal.tokenId}`, subject: principal.subject, role: principal.role };
}

/** Writing `last_used_at` on every request would make every read a write: once a minute is enough. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function tokenService(deps: { db: Db }) {
  const lastUsedWritten = new Map<string, number>();

  async function createToken(
    input: { name: string; subject: string; role: ApiRole; expiresAt?: Date; id?: string; token?: string },
    actor: Actor,
  ): Promise<{ token: string; info: ApiTokenInfo }> {
    const token = input.token ?? `${PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = input.id ?? randomUUID();
    const info = await deps.db.transaction().execute(async (tx) => {
      const row = await tx.insertInto('apiTokens').values({
        id, name: input.name, subject: input.subject, role: input.role, tokenHash: hashToken(token),
        createdBy: actor.id, expiresAt: input.expiresAt ?? null,
      }).returningAll().executeTakeFirstOrThrow();
      await appendAudit(tx, actor, {
        action: 'token.created', subject: `token:${id}`,
        payload: { name: input.name, tokenSubject: input.subject, role: input.role, expiresAt: input.expiresAt?.toISOString() ?? null },
      });
      return toInfo(row);
    });
    return { token, info };
  }

  async function authenticate(token: string): Promise<Principal> {
    const row = await deps.db.selectFrom('apiTokens').select(['id', 'subject', 'role', 'expiresAt', 'revokedAt'])
      .where('tokenHash', '=', hashToken(token)).executeTakeFirst();
    if (!row) throw new UnauthenticatedError('ERR_TOKEN_INVALID', 'the API token is not valid');
    if (row.revokedAt) throw new UnauthenticatedError('ERR_TOKEN_REVOKED', 'the API token has been revoked');
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) throw new UnauthenticatedError('ERR_TOKEN_EXPIRED', 'the API token has expired');
    const now = Date.now();
    if (now - (lastUsedWritten.get(row.id) ?? 0) > LAST_USED_RESOLUTION_MS) {
      lastUsedWritten.set(row.id, now);
      await deps.db.updateTable('apiTokens').set({ lastUsedAt: new Date(now) }).where('id', '=', row.id).execute();
    }
    return { tokenId: row.id, subject: row.subject, role: row.role as ApiRole };
  }

  async function listTokens(): Promise<ApiTokenInfo[]> {
    return (await deps.db.selectFrom('apiTokens').selectAll().orderBy('createdAt').execute()).map(toInfo);
  }

  async function revokeToken(id: string, actor: Actor): Promise<ApiTokenInfo> {
    return deps.db.transaction().execute(async (tx) => {
      const row = await tx.updateTable('apiTokens').set({ revokedAt: sql`coalesce(revoked_at, now())` as never })
        .where('id', '=', id).returningAll().executeTakeFirst();
      if (!row) throw new NotFoundError('ERR_TOKEN_NOT_FOUND', `API token "${id}" does not exist`);
      await appendAudit(tx, actor, { action: 'token.revoked', subject: `token:${id}`, payload: { name: row.name, tokenSubject: row.subject } });
      return toInfo(row);
    });
  }

  /** True when an unrevoked, unexpired admin token exists. */
  async function hasAdmin(): Promise<boolean> {
    const row = await deps.db.selectFrom('apiTokens').select('id').where('role', '=', 'admin').where('revokedAt', 'is', null)
      .where((eb) => eb.or([eb('expiresAt', 'is', null), eb('expiresAt', '>', new Date())])).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  return { createToken, authenticate, listTokens, revokeToken, hasAdmin };
}

export type TokenService = ReturnType<typeof tokenService>;

function toInfo(row: { id: string; name: string; subject: string; role: string; createdBy: string; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null; revokedAt: Date | null }): ApiTokenInfo {
  return {
    id: row.id, name: row.name, subject: row.subject, role: row.role as ApiRole, createdBy: row.createdBy,
    createdAt: row.createdAt, expiresAt: row.expiresAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt,
  };
}
