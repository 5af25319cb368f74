import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, type JWK } from 'jose';
import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { UnavailableError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db, Tx } from '../store/db.js';
import type { BrokerSettings } from './settings.js';
import { SIGNING_ALG } from './claims.js';
import { encodeSegment, signCompact } from './jws.js';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdAt: Date;
  activatesAt: Date;
  expiresAt: Date | null;
}

interface LoadedKey extends SigningKeyInfo {
  publicJwk: JWK;
  privateKey: KeyObject;
  /** Encoded protected headers by `typ`, built once per key. */
  headers: Map<string, string>;
}

/** Serializes key creation across processes (a transaction-scoped advisory lock). */
const KEY_LOCK = 0x62726b31; // "brk1"

export type KeyDeps = {
  db: Db;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  settings: Pick<BrokerSettings, 'keyRotationSeconds' | 'keyPrepublishSeconds' | 'maxTokenTtlSeconds'>;
  now: () => number;
};

/**
 * The broker's Ed25519 signing keys. Private halves are sealed under the master key in the store;
 * each process decrypts them once. The newest key whose activation time has passed signs; older
 * keys stay in the JWKS until every token they signed has expired (the overlap), and a new key is
 * published `keyPrepublishSeconds` before it starts signing.
 */
export function signingKeys(deps: KeyDeps) {
  let keys: LoadedKey[] = [];
  let verifier = createLocalJWKSet({ keys: [] });
  let lastLoad = 0;
  let loading: Promise<void> | undefined;

  async function load(): Promise<void> {
    const rows = await deps.db.selectFrom('brokerSigningKeys').selectAll()
      .where((eb) => eb.or([eb('expiresAt', 'is', null), eb('expiresAt', '>', new Date(deps.now()))]))
      .orderBy('activatesAt').orderBy('createdAt').execute();
    const known = new Map(keys.map((k) => [k.kid, k]));
    const next: LoadedKey[] = [];
    for (const row of rows) {
      const existing = known.get(row.kid);
      const info = { kid: row.kid, alg: row.alg, createdAt: row.createdAt, activatesAt: row.activatesAt, expiresAt: row.expiresAt };
      if (existing) {
        next.push({ ...existing, ...info });
        continue;
      }
      const privateJwk = JSON.parse(await deps.sealer.open(row.privateKeySealed)) as JWK;
      next.push({
        ...info, publicJwk: row.publicJwk as JWK,
        privateKey: createPrivateKey({ key: privateJwk as never, format: 'jwk' }), headers: new Map(),
      });
    }
    keys = next;
    verifier = createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });
    lastLoad = deps.now();
  }

  function reload(): Promise<void> {
    return (loading ??= load().finally(() => (loading = undefined)));
  }

  async function createKey(tx: Tx, activatesAt: Date, actor: Actor): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const publicPart = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint({ kty: publicPart.kty!, crv: publicPart.crv!, x: publicPart.x! });
    const publicJwk: JWK = { kty: publicPart.kty, crv: publicPart.crv, x: publicPart.x, kid, alg: SIGNING_ALG, use: 'sig' };
    await tx.insertInto('brokerSigningKeys').values({
      kid, alg: SIGNING_ALG, publicJwk: JSON.stringify(publicJwk),
      privateKeySealed: await deps.sealer.seal(JSON.stringify(privateKey.export({ format: 'jwk' }))),
      createdAt: new Date(deps.now()), activatesAt,
    }).execute();
    await appendAudit(tx, actor, { action: 'broker.key.created', subject: `signing-key:${kid}`, payload: { kid, alg: SIGNING_ALG, activatesAt: activatesAt.toISOString() } });
    return kid;
  }

  /**
   * Creates a key when none exists, or a successor when the newest is due (`force` rotates now).
   * Keys it supersedes get their expiry: the successor's activation plus the longest token life.
   */
  async function rotate(actor: Actor, options: { force?: boolean } = {}): Promise<{ rotated: boolean; kid?: string }> {
    const result = await deps.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${KEY_LOCK})`.execute(tx);
      const newest = await tx.selectFrom('brokerSigningKeys').select(['kid', 'createdAt']).orderBy('createdAt', 'desc').limit(1).executeTakeFirst();
      const now = deps.now();
      if (newest && !options.force && newest.createdAt.getTime() + deps.settings.keyRotationSeconds * 1000 > now) return { rotated: false };
      // The first key signs at once; a successor is published first unless forced.
      const activatesAt = new Date(newest && !options.force ? now + deps.settings.keyPrepublishSeconds * 1000 : now);
      const kid = await createKey(tx, activatesAt, actor);
      if (newest) {
        const expiresAt = new Date(activatesAt.getTime() + (deps.settings.maxTokenTtlSeconds + 300) * 1000);
        await tx.updateTable('brokerSigningKeys').set({ expiresAt }).where('kid', '<>', kid).where('expiresAt', 'is', null).execute();
      }
      return { rotated: true, kid };
    });
    await reload();
    return result;
  }

  /** Makes sure a key exists and is loaded: the first use in a process calls this. */
  async function ready(actor: Actor): Promise<void> {
    if (keys.length === 0) await reload();
    if (keys.length === 0) {
      await rotate(actor);
      if (keys.length === 0) throw new UnavailableError('ERR_BROKER_NO_KEY', 'no signing key could be created');
    }
  }

  function signer(): LoadedKey {
    const now = deps.now();
    let chosen: LoadedKey | undefined;
    for (const key of keys) if (key.activatesAt.getTime() <= now) chosen = key;
    const key = chosen ?? keys[0];
    if (!key) throw new UnavailableError('ERR_BROKER_NO_KEY', 'the broker has no signing key loaded');
    return key;
  }

  return {
    ready,
    rotate,
    reload,
    /** Signs a JWT with the current key; `typ` is `at+jwt` for tokens, `secevent+jwt` for SETs. */
    sign(typ: string, payload: Record<string, unknown>): { token: string; kid: string } {
      const key = signer();
      let header = key.headers.get(typ);
      if (!header) key.headers.set(typ, (header = encodeSegment({ alg: key.alg, kid: key.kid, typ })));
      return { token: signCompact(header, payload, key.privateKey), kid: key.kid };
    },
    /** The key resolver for jose's verification of tokens Cordon signed. */
    verifier: () => verifier,
    knows: (kid: string) => keys.some((k) => k.kid === kid),
    /** Reloads at most once a second when a token names a key this process has not loaded. */
    async refreshFor(kid: string): Promise<boolean> {
      if (keys.some((k) => k.kid === kid)) return true;
      if (deps.now() - lastLoad < 1000) return false;
      await reload();
      return keys.some((k) => k.kid === kid);
    },
    jwks(): { keys: JWK[] } {
      const now = deps.now();
      return { keys: keys.filter((k) => !k.expiresAt || k.expiresAt.getTime() > now).map((k) => k.publicJwk) };
    },
    list(): SigningKeyInfo[] {
      return keys.map(({ kid, alg, createdAt, activatesAt, expiresAt }) => ({ kid, alg, createdAt, activatesAt, expiresAt }));
    },
  };
}

export type SigningKeys = ReturnType<typeof signingKeys>;
