/**
 * Ingestion with detection on, durably stored, on PGlite (a data directory on disk) and on
 * PostgreSQL. CloudTrail records of 1,000 generated identities (each with its ARN and access
 * key id in the inventory) go through the whole pipeline: NDJSON text split and parsed,
 * validated, resolved to identities, stored idempotently, run through the built-in detectors
 * and the shipped rules (baselines warmed first, so detections are rare as in real traffic),
 * each batch of 2,000 in one transaction with its audit record.
 *
 * Figure: sustained events/s. Baseline, same run, same store: a bare `COPY … FROM STDIN` of the
 * same rows (the rows the pipeline stored, copied out first) into a table with the same indexes.
 * Targets (SPEC §5): ≥ 20,000 events/s on PostgreSQL and ≥ 0.5 of COPY.
 *
 * CPU time per event is printed too (Cordon's process, and the PostgreSQL backends when the server
 * runs on this machine): on a shared machine it moves far less than rates do.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { CamelCasePlugin, Kysely, sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { detectionEngine } from '../src/detect/engine.js';
import { loadRules } from '../src/detect/rules.js';
import { SYSTEM_ACTOR } from '../src/domain/roles.js';
import { BATCH_SIZE, ingestService } from '../src/ingest/pipeline.js';
import { identityResolver } from '../src/ingest/resolve.js';
import { loadConfig } from '../src/runtime/config.js';
import { fingerprinter } from '../src/secrets/fingerprint.js';
import { sealer } from '../src/secrets/sealed.js';
import type { Db } from '../src/store/db.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { SerializedPGliteDialect } from '../src/store/pglite-dialect.js';
import type { Database } from '../src/store/schema.js';
import { processCpuMs, processesCpuMs, report } from './lib.js';

const IDENTITIES = 1000;
const WARMUP_PER_IDENTITY = 25;
const BATCH = BATCH_SIZE;
const ADMIN_URL = process.env.CORDON_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DB = 'cordon_bench_ingest';
const SERVICES = ['s3.amazonaws.com', 'dynamodb.amazonaws.com', 'sqs.amazonaws.com', 'kms.amazonaws.com', 'sts.amazonaws.com'];
const NAMES = ['GetObject', 'PutObject', 'Query', 'SendMessage', 'Decrypt', 'GetCallerIdentity'];

interface Target {
  name: string;
  db: Db;
  /** The server's processes serving this benchmark (PostgreSQL backends), when the server runs on this machine. */
  serverPids(): Promise<number[] | undefined>;
  /** COPY of `select * from events` out, then into `events_copy`: the ms the COPY in took, and the server's CPU ms for it. */
  copyBaseline(): Promise<{ ms: number; serverCpuMs?: number }>;
  close(): Promise<void>;
}

function record(i: number, identity: number, at: number, anomaly: boolean): string {
  return JSON.stringify({
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser', principalId: `AIDABENCH${identity}`, arn: `arn:aws:iam::111122223333:user/bench-${identity}`, accountId: '111122223333',
      accessKeyId: `AKIABENCH${String(identity).padStart(11, '0')}`, userName: `bench-${identity}`,
    },
    eventTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: SERVICES[(identity + i) % SERVICES.length], eventName: NAMES[i % NAMES.length], awsRegion: 'eu-west-1',
    sourceIPAddress: anomaly ? `198.51.${Math.floor(i / 4999) % 250}.7` : `10.${identity % 250}.${Math.floor(identity / 250)}.${i % 200}`,
    userAgent: 'aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux md/GOARCH#amd64',
    requestParameters: { bucketName: `bench-bucket-${identity % 17}`, key: `objects/${i}.json` }, responseElements: null,
    requestID: randomUUID(), eventID: randomUUID(), readOnly: true, eventType: 'AwsApiCall', managementEvent: false,
    recipientAccountId: '111122223333', eventCategory: 'Data',
  });
}

/** NDJSON batches: `count` events spread over identities, one event per 20 ms of event time. */
function batches(count: number, start: number, first: number): string[] {
  const out: string[] = [];
  for (let b = 0; b < count; b += BATCH) {
    const lines: string[] = [];
    for (let i = b; i < Math.min(count, b + BATCH); i++) {
      const n = first + i;
      // About one event in 5,000 comes from a network its identity never used: rare new_source detections.
      lines.push(record(n, n % IDENTITIES, start + n * 20, n % 4999 === 0));
    }
    out.push(lines.join('\n'));
  }
  return out;
}

async function seed(db: Db): Promise<void> {
  await sql`insert into identities (id, kind, name, provider, external_ref, environment)
    select 'bench-' || i, 'service_account', 'bench ' || i, 'aws', 'arn:aws:iam::111122223333:user/bench-' || i, 'production'
      from generate_series(0, ${IDENTITIES - 1}) i`.execute(db);
  await sql`insert into credentials (id, identity_id, name, type, external_ref)
    select 'bench-' || i || '/key', 'bench-' || i, 'access-key', 'api_key', 'AKIABENCH' || lpad(i::text, 11, '0')
      from generate_series(0, ${IDENTITIES - 1}) i`.execute(db);
}

async function postgresTarget(): Promise<Target> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.query(`create database ${DB}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${DB}`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const { PostgresDialect } = await import('kysely');
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })] });
  await migrateToLatest(db);
  return {
    name: 'PostgreSQL', db,
    async serverPids() {
      const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and backend_type = 'client backend'`.execute(db);
      return rows.map((r) => r.pid);
    },
    async copyBaseline() {
      const client = await pool.connect();
      try {
        await client.query('create table events_copy (like events including all)');
        const chunks: Buffer[] = [];
        await pipeline(client.query(copyTo('copy events to stdout')), async function* (source) {
          for await (const chunk of source) chunks.push(chunk as Buffer);
        });
        const backend = (client as unknown as { processID: number }).processID;
        const cpuBefore = await processCpuMs(backend);
        const started = performance.now();
        await pipeline(Readable.from(chunks), client.query(copyFrom('copy events_copy from stdin')));
        const ms = performance.now() - started;
        const cpuAfter = await processCpuMs(backend);
        return { ms, ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpuMs: cpuAfter - cpuBefore } : {}) };
      } finally {
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}

async function pgliteTarget(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'cordon-bench-ingest-'));
  const pglite = await PGlite.create(join(dir, 'pgdata'));
  const db = new Kysely<Database>({ dialect: new SerializedPGliteDialect({ pglite }), plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })] });
  await migrateToLatest(db);
  return {
    name: 'PGlite (on disk)', db,
    serverPids: async () => undefined,
    async copyBaseline() {
      await pglite.exec('create table events_copy (like events including all)');
      const out = await pglite.query("copy events to '/dev/blob'");
      const started = performance.now();
      await pglite.query("copy events_copy from '/dev/blob'", [], { blob: out.blob });
      return { ms: performance.now() - started };
    },
    async close() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function measure(target: Target, events: number): Promise<void> {
  const rules = await loadRules(loadConfig({}).rulesDir);
  await seed(target.db);
  const fingerprint = fingerprinter(new Uint8Array(32).fill(3));
  const detection = detectionEngine({ rules, onError: (error, what) => console.error(`${what} failed:`, error) });
  const ingest = ingestService({
    db: target.db, fingerprint, sealer: sealer(new Uint8Array(32).fill(4)), resolver: identityResolver(target.db), detection,
  });
  const start = Date.now() - 2 * 86_400_000;
  /** Two batches in flight, as `bin/cordon ingest` sends them: one is parsed while the other is written. */
  const ingestAll = async (texts: string[]) => {
    let stored = 0;
    let pending: Promise<{ stored: number }> | undefined;
    for (const text of texts) {
      const sent = ingest.ingest(text, { channel: 'cli' }, SYSTEM_ACTOR);
      if (pending) stored += (await pending).stored;
      pending = sent;
    }
    if (pending) stored += (await pending).stored;
    return stored;
  };
  // Warm-up: every identity's baseline is established, caches are filled (not measured).
  await ingestAll(batches(IDENTITIES * WARMUP_PER_IDENTITY, start, 0));
  await detection.flush(target.db);
  await sql`truncate events`.execute(target.db);
  const measured = batches(events, start, IDENTITIES * WARMUP_PER_IDENTITY);
  const detectionsBefore = Number((await sql<{ n: string }>`select count(*) as n from detections`.execute(target.db)).rows[0]!.n);
  // Backends opened during the run count from zero; the pool keeps its connections while it is busy.
  const serverCpuMs = async () => {
    const pids = await target.serverPids();
    return pids && processesCpuMs(pids);
  };
  const serverBefore = await serverCpuMs();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const stored = await ingestAll(measured);
  const ms = performance.now() - started;
  const cpuUs = process.cpuUsage(cpu);
  const serverAfter = serverBefore && await serverCpuMs();
  const detections = Number((await sql<{ n: string }>`select count(*) as n from detections`.execute(target.db)).rows[0]!.n) - detectionsBefore;
  if (stored !== events) throw new Error(`stored ${stored} of ${events}`);
  const copy = await target.copyBaseline();
  const rate = events / (ms / 1000);
  const copyRate = events / (copy.ms / 1000);
  const serverCpu = serverBefore && serverAfter
    ? [...serverAfter].reduce((sum, [pid, ms]) => sum + ms - (serverBefore.get(pid) ?? 0), 0) * 1000 / events : undefined;
  report(`ingestion with detection, ${target.name}, ${events.toLocaleString()} CloudTrail events, ${IDENTITIES} identities, batches of ${BATCH}`, [
    { name: 'pipeline events/s (detection on)', value: rate, unit: 'events/s', ...(target.name === 'PostgreSQL' ? { target: { op: '>=' as const, value: 20_000 } } : {}) },
    { name: 'detections raised while measuring', value: detections, unit: 'detections' },
    // Where the time goes: Cordon's own CPU per event (parse, resolve, detect, write the rows; on PGlite the store's too) and the server's.
    { name: 'Cordon process CPU per event', value: (cpuUs.user + cpuUs.system) / events, unit: 'µs' },
    ...(serverCpu !== undefined ? [{ name: 'PostgreSQL backends CPU per event', value: serverCpu, unit: 'µs' }] : []),
  ], {
    name: `bare COPY of the same rows (${target.name === 'PostgreSQL' ? 'FROM STDIN' : "FROM '/dev/blob'"}) into a table with the same indexes`,
    figures: [
      { name: 'COPY rows/s', value: copyRate, unit: 'rows/s' },
      ...(copy.serverCpuMs !== undefined ? [{ name: 'PostgreSQL backend CPU per row', value: copy.serverCpuMs * 1000 / events, unit: 'µs' }] : []),
    ],
  }, [{ name: 'pipeline / COPY', value: rate / copyRate, ...(target.name === 'PostgreSQL' ? { target: 0.5 } : {}) }]);
}

export async function run(args: string[] = []): Promise<void> {
  const only = args.find((a) => a.startsWith('--store='))?.slice('--store='.length);
  if (!only || only === 'pglite') {
    const target = await pgliteTarget();
    try {
      await measure(target, 30_000);
    } finally {
      await target.close();
    }
  }
  if (!only || only === 'postgres') {
    const target = await postgresTarget();
    try {
      await measure(target, 100_000);
    } finally {
      await target.close();
    }
  }
}
