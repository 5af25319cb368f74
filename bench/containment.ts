/**
 * Detection → verified containment of a real PostgreSQL role (SPEC §5: p50 ≤ 300 ms, p99 ≤ 1 s
 * from event accepted).
 *
 * One Cordon process (API, workers and executor, as `npm start` runs them) on PostgreSQL (or
 * `--pglite`), the shipped playbooks, and a target PostgreSQL database whose roles log in with
 * passwords. Each run: an application session is opened as a role, a gitleaks report leaking the
 * role's password is POSTed to /v1/events over HTTP; the clock starts when the event is accepted
 * (the 200 arrives) and stops when the executor has verified, on the server, the rotation (new
 * password logs in, a password nobody holds is refused), the end of the role's sessions
 * (pg_stat_activity) and NOLOGIN (a login with the new password refused). Runs follow one
 * another; each waits for the previous response to finish (evidence and the owners' task too).
 *
 * Baseline, same run, interleaved: the connector's own SQL round trips for the same containment
 * done by hand on an open admin connection — ALTER ROLE … PASSWORD, a login with it and one with
 * a wrong password, pg_terminate_backend over pg_stat_activity and a re-read, ALTER ROLE NOLOGIN,
 * rolcanlogin and a refused login — with nothing recorded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import type { ActionRun } from '../src/respond/runs.js';
import { loadConfig } from '../src/runtime/config.js';
import { createLogger } from '../src/runtime/logger.js';
import { startServer } from '../src/runtime/serve.js';
import { openStore } from '../src/store/db.js';
import { percentile, report } from './lib.js';

const RUNS = Number(process.env.CORDON_BENCH_CONTAINMENT_RUNS ?? 200);
const ADMIN_URL = process.env.CORDON_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const GROUP = 'cordon_password_auth';
const suffix = randomBytes(3).toString('hex');
const TARGET_DB = `cordon_bench_target_${suffix}`;
const STORE_DB = `cordon_bench_containment_${suffix}`;
const CONTAINMENT = new Set(['rotate', 'revoke-sessions', 'disable']);

async function admin(text: string, values: unknown[] = [], database?: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: database ? ADMIN_URL.replace(/\/[^/]*$/, `/${database}`) : ADMIN_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** An application's session as the role; once the server terminated it, it is not ended again (the driver would wait). */
async function connect(user: string, password: string): Promise<{ close(): Promise<void> }> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, database: TARGET_DB, user, password });
  let ended = false;
  client.on('error', () => undefined);
  client.once('end', () => (ended = true));
  await client.connect();
  return { close: async () => (ended ? undefined : client.end().catch(() => undefined)) };
}

async function loginCode(user: string, password: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, database: TARGET_DB, user, password });
  try {
    await client.connect();
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same containment by hand: the round trips the connector makes, on an open admin connection. */
async function bareContainment(adminClient: pg.Client, role: string): Promise<void> {
  const secret = randomBytes(24).toString('base64url');
  await adminClient.query('select rolname, rolcanlogin from pg_roles where rolname = $1', [role]);
  await adminClient.query(`alter role ${adminClient.escapeIdentifier(role)} password ${adminClient.escapeLiteral(secret)}`);
  if (await loginCode(role, secret) !== 'ok') throw new Error('baseline: the new password does not log in');
  if (await loginCode(role, `wrong-${secret}`) !== '28P01') throw new Error('baseline: a wrong password is not refused');
  await adminClient.query('select pid, pg_terminate_backend(pid, 5000) from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()', [role]);
  await adminClient.query('select pid from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()', [role]);
  await adminClient.query(`alter role ${adminClient.escapeIdentifier(role)} nologin`);
  await adminClient.query('select rolcanlogin from pg_roles where rolname = $1', [role]);
  if (await loginCode(role, secret) !== '28000') throw new Error('baseline: NOLOGIN does not refuse the login');
}

function gitleaks(secret: string, n: number) {
  const commit = randomBytes(20).toString('hex');
  return [{
    Description: 'Generic Password', StartLine: 3, EndLine: 3, StartColumn: 13, EndColumn: 45, Match: `DB_PASSWORD=${secret}`, Secret: secret,
    File: `deploy/svc-${n}/.env`, SymlinkFile: '', Commit: commit, Entropy: 4.1, Author: 'Dev', Email: 'dev@acme.example',
    Date: new Date().toISOString(), Message: 'add env', Tags: [], RuleID: 'generic-password', Fingerprint: `${commit}:deploy/svc-${n}/.env:generic-password:3`,
  }];
}

export async function run(args: string[]): Promise<void> {
  const pglite = args.includes('--pglite');
  const dataDir = await mkdtemp(join(tmpdir(), 'cordon-bench-containment-'));
  await admin(`create database ${TARGET_DB}`);
  await admin(`do $$ begin create role ${GROUP} nologin; exception when duplicate_object then null; end $$`);
  const roles = Array.from({ length: RUNS }, (_, i) => ({ name: `cordon_bench_${suffix}_${i}`, password: randomBytes(18).toString('base64url') }));
  const bareRoles = Array.from({ length: RUNS }, (_, i) => ({ name: `cordon_bench_bare_${suffix}_${i}`, password: randomBytes(18).toString('base64url') }));
  for (const r of [...roles, ...bareRoles]) await admin(`create role ${r.name} login password '${r.password}' in role ${GROUP}`);
  if (await loginCode(roles[0]!.name, 'not-the-password') !== '28P01') {
    console.log(`\n== containment: PostgreSQL does not check passwords for members of ${GROUP} (run .ci/run once to add its pg_hba.conf rule); skipped`);
    await cleanup();
    return;
  }
  if (!pglite) await admin(`create database ${STORE_DB}`);
  const env = { ...process.env, CORDON_DATA_DIR: dataDir, CORDON_PORT: '0', CORDON_LOG_LEVEL: 'warn', ...(pglite ? {} : { DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${STORE_DB}`) }) };
  delete (env as Record<string, string | undefined>).CORDON_PLAYBOOK_DIR;
  const config = loadConfig(env);
  const store = pglite ? await openStore({}) : undefined;
  const server = await startServer(config, createLogger('warn'), { role: 'all', ...(store ? { store } : {}) });
  const token = (await server.context.tokens.createToken({ name: 'bench', subject: 'bench', role: 'admin' }, { id: 'bench', subject: 'bench' })).token;
  const api = (path: string, body: unknown) => fetch(`${server.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const inventory = {
    apiVersion: 'cordon/v1', kind: 'Inventory',
    teams: [{ id: 'platform', name: 'Platform', responsibility: 'platform' }],
    connectors: [{ id: 'pg-bench', type: 'postgres', params: { host: '127.0.0.1', port: 5432, database: TARGET_DB, user: 'postgres' } }],
    identities: roles.map((r, i) => ({
      id: `svc-bench-${i}`, kind: 'db_role', name: r.name, provider: 'postgres', connector: 'pg-bench', externalRef: r.name, environment: 'production',
      owners: { team: 'platform' }, credentials: [{ name: 'password', type: 'password', value: r.password }],
    })),
  };
  const imported = await api('/v1/inventory', inventory);
  if (!imported.ok) throw new Error(`inventory: ${imported.status} ${await imported.text()}`);

  const contained: number[] = [];
  const rotated: number[] = [];
  const bare: number[] = [];
  const adminClient = new pg.Client({ connectionString: ADMIN_URL.replace(/\/[^/]*$/, `/${TARGET_DB}`) });
  await adminClient.connect();
  const executor = server.context.executor.events;
  try {
    for (let i = 0; i < RUNS; i++) {
      const identity = `svc-bench-${i}`;
      const session = await connect(roles[i]!.name, roles[i]!.password);
      const marks = new Map<string, number>();
      let settle: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (settle = resolve));
      const seen = new Map<string, string>();
      const onRun = (r: ActionRun) => {
        if (r.target.identityId !== identity) return;
        if (r.state === 'verified') marks.set(r.stepId, performance.now());
        if (['verified', 'verification_failed', 'failed', 'cancelled', 'denied'].includes(r.state)) seen.set(r.id, r.state);
        if (r.state === 'verification_failed' || r.state === 'failed') settle();
        if (seen.size >= 5) settle();
      };
      executor.on('run', onRun);
      const response = await api('/v1/events?format=gitleaks', gitleaks(roles[i]!.password, i));
      const accepted = performance.now();
      if (!response.ok) throw new Error(`events: ${response.status} ${await response.text()}`);
      await finished;
      executor.off('run', onRun);
      await session.close();
      if (![...CONTAINMENT].every((step) => marks.has(step))) {
        const failed = await server.context.db.selectFrom('actionRuns').select(['stepId', 'state', 'errorCode', 'error', 'verification'])
          .where(sql<boolean>`target->>'identityId' = ${identity}`).execute();
        throw new Error(`run ${i}: containment not verified: ${JSON.stringify(failed)}`);
      }
      contained.push(Math.max(...[...CONTAINMENT].map((s) => marks.get(s)!)) - accepted);
      rotated.push(marks.get('rotate')! - accepted);

      const bareSession = await connect(bareRoles[i]!.name, bareRoles[i]!.password);
      const start = performance.now();
      await bareContainment(adminClient, bareRoles[i]!.name);
      bare.push(performance.now() - start);
      await bareSession.close();
    }
  } finally {
    await adminClient.end();
    await server.close();
    await cleanup();
  }

  report(`detection → verified containment of a PostgreSQL role, Cordon store ${pglite ? 'PGlite' : 'PostgreSQL'}, ${RUNS} runs (event accepted → rotation, session end and NOLOGIN verified)`, [
    { name: 'contained p50', value: percentile(contained, 50), unit: 'ms', target: { op: '<=', value: 300 } },
    { name: 'contained p99', value: percentile(contained, 99), unit: 'ms', target: { op: '<=', value: 1000 } },
    { name: 'rotation verified p50', value: percentile(rotated, 50), unit: 'ms' },
    { name: 'rotation verified p99', value: percentile(rotated, 99), unit: 'ms' },
  ], {
    name: 'the connector\'s bare SQL round trips and login proofs for the same containment, by hand',
    figures: [
      { name: 'bare containment p50', value: percentile(bare, 50), unit: 'ms' },
      { name: 'bare containment p99', value: percentile(bare, 99), unit: 'ms' },
    ],
  }, [{ name: 'contained p50 / bare p50', value: percentile(contained, 50) / percentile(bare, 50) }]);

  async function cleanup() {
    await admin(`drop database if exists ${TARGET_DB} with (force)`);
    if (!pglite) await admin(`drop database if exists ${STORE_DB} with (force)`);
    for (const r of [...roles, ...bareRoles]) await admin(`drop role if exists ${r.name}`);
    await rm(dataDir, { recursive: true, force: true });
  }
}
