import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { appendAudit } from '../../audit/service.js';
import { NotFoundError } from '../../domain/errors.js';
import type { Actor } from '../../domain/roles.js';
import type { Db } from '../../store/db.js';
import type { BrokerIssuerTable } from '../../store/schema.js';
import type { Selectable } from 'kysely';
import { DEFAULT_ALGORITHMS, parseIssuer, type TrustedIssuer } from './schema.js';

export interface LoadedIssuer {
  config: TrustedIssuer;
  keys: JWTVerifyGetKey;
}

/** How long a process trusts its copy of the issuer list before reading it again. */
const REFRESH_MS = 5000;

/**
 * Trusted issuers, stored in the database (so every process sharing it agrees) and held in memory
 * with their key resolvers: a remote JWKS is fetched and cached by jose (network towards the
 * configured issuer, at run time); a static one is used as given.
 */
export function issuerRegistry(deps: { db: Db; now: () => number }) {
  let byIssuer = new Map<string, LoadedIssuer>();
  let byTrustDomain = new Map<string, LoadedIssuer>();
  /** Bumped whenever the loaded set changes, so caches of verified tokens can be dropped. */
  let version = 0;
  let signature = '';
  let loadedAt = 0;
  let loading: Promise<void> | undefined;

  async function load(): Promise<void> {
    const rows = await deps.db.selectFrom('brokerIssuers').selectAll().orderBy('id').execute();
    const next = rows.map(toConfig);
    const nextSignature = JSON.stringify(next);
    loadedAt = deps.now();
    if (nextSignature === signature) return;
    const previous = new Map([...byIssuer.values()].map((l) => [l.config.id, l]));
    byIssuer = new Map();
    byTrustDomain = new Map();
    for (const config of next) {
      const old = previous.get(config.id);
      // Keep a remote key set (and its cache) when its configuration did not change.
      const keys = old && JSON.stringify(old.config) === JSON.stringify(config) ? old.keys : resolverFor(config);
      const loaded = { config, keys };
      byIssuer.set(config.issuer, loaded);
      if (config.trustDomain) byTrustDomain.set(config.trustDomain, loaded);
    }
    signature = nextSignature;
    version++;
  }

  function refresh(): Promise<void> {
    return (loading ??= load().finally(() => (loading = undefined)));
  }

  async function current(): Promise<void> {
    if (deps.now() - loadedAt > REFRESH_MS) await refresh();
  }

  async function save(input: unknown, actor: Actor): Promise<TrustedIssuer> {
    const config = parseIssuer(input);
    await deps.db.transaction().execute(async (tx) => {
      const row = {
        id: config.id, issuer: config.issuer, kind: config.kind, jwksUri: config.jwksUri ?? null,
        jwks: config.jwks ? JSON.stringify(config.jwks) : null, audiences: config.audiences,
        algorithms: config.algorithms ?? DEFAULT_ALGORITHMS!, trustDomain: config.trustDomain ?? null,
        bindings: JSON.stringify(config.bindings),
      };
      await tx.insertInto('brokerIssuers').values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet({ ...row, updatedAt: new Date() })).execute();
      await appendAudit(tx, actor, {
        action: 'broker.issuer.saved', subject: `issuer:${config.id}`,
        payload: { issuer: config.issuer, kind: config.kind, jwksUri: config.jwksUri ?? null, audiences: config.audiences, bindings: config.bindings.length },
      });
    });
    await refresh();
    return get(config.id)!;
  }

  async function remove(id: string, actor: Actor): Promise<void> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await tx.deleteFrom('brokerIssuers').where('id', '=', id).returning(['issuer']).executeTakeFirst();
      if (!row) throw new NotFoundError('ERR_BROKER_ISSUER_NOT_FOUND', `trusted issuer "${id}" does not exist`);
      await appendAudit(tx, actor, { action: 'broker.issuer.deleted', subject: `issuer:${id}`, payload: { issuer: row.issuer } });
    });
    await refresh();
  }

  function get(id: string): TrustedIssuer | undefined {
    return [...byIssuer.values()].find((l) => l.config.id === id)?.config;
  }

  return {
    save,
    remove,
    refresh,
    async list(): Promise<TrustedIssuer[]> {
      await refresh();
      return [...byIssuer.values()].map((l) => l.config).sort((a, b) => a.id.localeCompare(b.id));
    },
    /** The issuer of a token's `iss`, reading the store again when it is not known here yet. */
    async find(iss: string | undefined, spiffeTrustDomain?: string): Promise<LoadedIssuer | undefined> {
      await current();
      const lookup = () => (iss !== undefined ? byIssuer.get(iss) : spiffeTrustDomain ? byTrustDomain.get(spiffeTrustDomain) : undefined);
      let found = lookup();
      if (!found && deps.now() - loadedAt > 1000) {
        await refresh();
        found = lookup();
      }
      return found;
    },
    version: () => version,
  };
}

export type IssuerRegistry = ReturnType<typeof issuerRegistry>;

function resolverFor(config: TrustedIssuer): JWTVerifyGetKey {
  if (config.jwks) return createLocalJWKSet(config.jwks as never);
  return createRemoteJWKSet(new URL(config.jwksUri!), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
}

function toConfig(row: Selectable<BrokerIssuerTable>): TrustedIssuer {
  return {
    id: row.id, issuer: row.issuer, kind: row.kind as TrustedIssuer['kind'],
    ...(row.jwksUri ? { jwksUri: row.jwksUri } : {}),
    ...(row.jwks ? { jwks: row.jwks } : {}),
    audiences: row.audiences, algorithms: row.algorithms as TrustedIssuer['algorithms'],
    ...(row.trustDomain ? { trustDomain: row.trustDomain } : {}),
    bindings: row.bindings as TrustedIssuer['bindings'],
  };
}
