/**
 * Token exchange and introspection, in process, on PostgreSQL (`--pglite` for the embedded store).
 *
 * Figures:
 * - exchanges/s: RFC 8693 exchange of workload tokens (RS256, from a trusted issuer with a static
 *   JWKS) for Cordon tokens: verified, bound, guard-checked (identity status read from the store),
 *   signed (Ed25519) and recorded as sessions (group commit, audited), 1024 in flight (and 64). Workload
 *   tokens are reused, as workloads do until their platform rotates them; the same figure with a
 *   never-seen workload token per exchange is printed too.
 * - introspections/s: RFC 7662 introspection of the issued tokens in this process (verified-token
 *   cache and in-memory revocation log), and in a second broker on the same store that has seen
 *   none of them (each verified once by jose).
 * Baseline, same run: bare jose — SignJWT (EdDSA) and jwtVerify (EdDSA) — one at a time. The
 * measurements and the baselines alternate in rounds and each figure sums its rounds, so load
 * from elsewhere on the machine weighs on both sides of a ratio alike.
 * Targets (SPEC §5): ≥ 5,000 exchanges/s and ≥ 50,000 introspections/s.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { sql } from 'kysely';
import pg from 'pg';
import { GRANT_TOKEN_EXCHANGE, TOKEN_TYPE_JWT } from '../src/broker/claims.js';
import { brokerService, type BrokerService } from '../src/broker/service.js';
import { DEFAULT_BROKER_SETTINGS } from '../src/broker/settings.js';
import { SYSTEM_ACTOR } from '../src/domain/roles.js';
import { fingerprinter } from '../src/secrets/fingerprint.js';
import { sealer } from '../src/secrets/sealed.js';
import { openStore, type Store } from '../src/store/db.js';
import { report } from './lib.js';

const WORKLOADS = 200;
/** Measurements alternate with their baselines in rounds, so load from elsewhere hits both alike. */
const ROUNDS = 5;
const EXCHANGES = 4_000;
const COLD_EXCHANGES = 400;
/** Exchanges waiting at once: enough to keep the group commit fed (the figure is a throughput). */
const IN_FLIGHT = 1024;
/** Fewer waiting: what a lightly loaded server does, bound by database round trips. */
const FEW_IN_FLIGHT = 64;
const INTROSPECTIONS = 20_000;
const COLD_INTROSPECTIONS = 1_000;
const BASELINE = 1_000;
const ADMIN_URL = process.env.CORDON_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DB = `cordon_bench_broker_${randomBytes(3).toString('hex')}`;

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function broker(store: Store): BrokerService {
  return brokerService({
    db: store.db, storeKind: store.kind, sealer: sealer(new Uint8Array(32).fill(1)), fingerprint: fingerprinter(new Uint8Array(32).fill(2)),
    settings: { ...DEFAULT_BROKER_SETTINGS, issuer: 'https://cordon.bench' },
  });
}

/** Calls and seconds spent, summed over rounds. */
class Meter {
  calls = 0;
  seconds = 0;
  /** Runs `count` calls with at most `inFlight` pending. */
  async run(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) await call(next++);
    }));
    this.seconds += (performance.now() - start) / 1000;
    this.calls += count;
  }
  get rate(): number {
    return this.calls / this.seconds;
  }
}

export async function run(args: string[] = []): Promise<void> {
  const onPglite = args.includes('--pglite');
  if (!onPglite) await admin(`create database ${DB}`);
  const store = onPglite ? await openStore({}) : await openStore({ databaseUrl: ADMIN_URL.replace(/\/[^/]*$/, `/${DB}`), poolSize: 10 });
  const brokers: BrokerService[] = [];
  try {
    await sql.raw(`insert into identities (id, kind, name, provider, external_ref, environment)
      select 'wl-' || i, 'workload', 'workload ' || i, 'generic', 'bench:wl-' || i, 'production' from generate_series(1, ${WORKLOADS}) i`).execute(store.db);
    const issuerKeys = await generateKeyPair('RS256');
    const b = broker(store);
    brokers.push(b);
    await b.issuers.save({
      id: 'bench', issuer: 'https://issuer.bench', kind: 'oidc', jwks: { keys: [{ ...(await exportJWK(issuerKeys.publicKey)), kid: 'k1', alg: 'RS256' }] },
      audiences: ['cordon'], algorithms: ['RS256'],
      bindings: [{ claims: { sub: 'bench:*' }, identityFromClaim: 'sub', scopes: ['read', 'write'], audiences: ['api:a', 'api:b'] }],
    }, SYSTEM_ACTOR);
    await b.ready();
    const workloadToken = (i: number) => new SignJWT({ sub: `bench:wl-${1 + (i % WORKLOADS)}`, aud: 'cordon', iss: 'https://issuer.bench', nonce: i })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuedAt().setExpirationTime('1h').sign(issuerKeys.privateKey);
    const subjects = await Promise.all(Array.from({ length: WORKLOADS }, (_, i) => workloadToken(i)));
    const exchange = (service: BrokerService, subjectToken: string) => service.exchange({
      grantType: GRANT_TOKEN_EXCHANGE, subjectToken, subjectTokenType: TOKEN_TYPE_JWT, audience: ['api:a'], resource: [], scope: 'read',
    }, { id: 'bench-client', actor: { id: 'token:bench', subject: 'bench' } });

    const other = broker(store);
    brokers.push(other);
    await other.ready();
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' }) as { privateKey: CryptoKey; publicKey: CryptoKey };
    const claims = { iss: 'https://cordon.bench', sub: 'wl-1', aud: ['api:a'], scope: 'read', client_id: 'bench-client', derived_from: [] };
    const joseSignJwt = () => new SignJWT({ ...claims, jti: randomBytes(16).toString('base64url') }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setIssuedAt().setExpirationTime('5m').sign(privateKey);

    await new Meter().run(1_000, IN_FLIGHT, (i) => exchange(b, subjects[i % WORKLOADS]!));
    const [exchanges, fewExchanges, coldExchanges, introspections, coldIntrospections, joseSign, joseVerify] = Array.from({ length: 7 }, () => new Meter());
    let active = 0;
    let introspected = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const issued: string[] = [];
      await exchanges!.run(EXCHANGES, IN_FLIGHT, async (i) => issued.push((await exchange(b, subjects[i % WORKLOADS]!)).access_token));
      await fewExchanges!.run(EXCHANGES / 4, FEW_IN_FLIGHT, (i) => exchange(b, subjects[i % WORKLOADS]!));
      const fresh = await Promise.all(Array.from({ length: COLD_EXCHANGES }, (_, i) => workloadToken(WORKLOADS + round * COLD_EXCHANGES + i)));
      await coldExchanges!.run(COLD_EXCHANGES, IN_FLIGHT, (i) => exchange(b, fresh[i]!));
      await introspections!.run(INTROSPECTIONS, 1, async (i) => {
        introspected++;
        if ((await b.introspect(issued[i % EXCHANGES]!)).active) active++;
      });
      await coldIntrospections!.run(COLD_INTROSPECTIONS, 1, (i) => other.introspect(issued[i]!));
      let signed = '';
      await joseSign!.run(BASELINE, 1, async () => (signed = await joseSignJwt()));
      await joseVerify!.run(BASELINE, 1, () => jwtVerify(signed, publicKey));
    }
    const issuedCount = 1_000 + ROUNDS * (EXCHANGES + EXCHANGES / 4 + COLD_EXCHANGES);
    const recorded = Number((await sql<{ n: string }>`select count(*) as n from sessions where source = 'broker'`.execute(store.db)).rows[0]!.n);

    report(`broker on ${store.kind}, in process (${WORKLOADS} workloads, ${IN_FLIGHT} exchanges in flight)`, [
      { name: 'exchanges/s (workload token reused)', value: exchanges!.rate, unit: 'tokens/s', target: { op: '>=', value: 5000 } },
      { name: `exchanges/s (${FEW_IN_FLIGHT} in flight)`, value: fewExchanges!.rate, unit: 'tokens/s' },
      { name: 'exchanges/s (new workload token)', value: coldExchanges!.rate, unit: 'tokens/s' },
      { name: 'introspections/s (this process)', value: introspections!.rate, unit: 'checks/s', target: { op: '>=', value: 50_000 } },
      { name: 'introspections/s (other process)', value: coldIntrospections!.rate, unit: 'checks/s' },
      { name: 'sessions recorded', value: recorded, unit: `rows (${issuedCount} issued)` },
      { name: 'active on introspection', value: active, unit: `of ${introspected}` },
    ], {
      name: 'bare jose 6, EdDSA, one at a time',
      figures: [
        { name: 'jose SignJWT/s', value: joseSign!.rate, unit: 'tokens/s' },
        { name: 'jose jwtVerify/s', value: joseVerify!.rate, unit: 'checks/s' },
      ],
    }, [
      { name: 'exchange / jose sign', value: exchanges!.rate / joseSign!.rate },
      { name: 'introspection / jose verify', value: introspections!.rate / joseVerify!.rate },
    ]);
  } finally {
    for (const b of brokers) await b.close();
    await store.close();
    if (!onPglite) await admin(`drop database if exists ${DB} with (force)`);
  }
}
