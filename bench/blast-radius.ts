/**
 * Blast radius on PostgreSQL over 1M identities and 3M edges (1M `uses` identity→credential,
 * 0.5M `delegates_to`, 0.5M `trusts`, 1M grants), with skewed degrees: a few identities are
 * trusted by thousands of workloads and 1% of credentials are shared. Depth 6.
 *
 * Figure: p50/p99 of `blastRadius()` from random identities, each call including the sync of the
 * in-memory graph index with the database (one round trip when nothing changed). Baseline, same
 * starts, same run: a naive recursive CTE over the same relations (UNION per (node, depth), no
 * visited set).
 * Target (SPEC §5): p99 ≤ 50 ms.
 *
 * The generated database (`cordon_bench_blast`) is kept between runs; `--fresh` rebuilds it.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { blastRadius } from '../src/inventory/blast-radius.js';
import { IdentityGraph } from '../src/inventory/graph-index.js';
import { openStore, type Store } from '../src/store/db.js';
import { percentile, report, timeMs } from './lib.js';

const IDENTITIES = 1_000_000;
const RESOURCES = 100_000;
const DEPTH = 6;
const SAMPLES = 500;
const BASELINE_SAMPLES = 100;
const BASELINE_TIMEOUT_MS = 10_000;
const DB = 'cordon_bench_blast';
const ADMIN_URL = process.env.CORDON_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DB_URL = ADMIN_URL.replace(/\/[^/]*$/, `/${DB}`);

async function admin(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function prepare(fresh: boolean): Promise<Store> {
  if (fresh) await admin(`drop database if exists ${DB} with (force)`);
  const exists = (await admin(`select 1 from pg_database where datname = '${DB}'`)).rowCount === 1;
  if (!exists) await admin(`create database ${DB}`);
  const store = await openStore({ databaseUrl: DB_URL, poolSize: 4 });
  const { rows } = await sql<{ n: string }>`select count(*) as n from identities`.execute(store.db);
  if (Number(rows[0]!.n) === IDENTITIES) return store;

  console.log(`generating ${IDENTITIES.toLocaleString()} identities and 3M edges in ${DB} (kept for later runs)…`);
  const started = Date.now();
  const steps = [
    `truncate identities, credentials, grants, edges, resources, sessions cascade`,
    `select setseed(0.42)`,
    `insert into identities (id, kind, name, provider, environment, criticality, tags)
       select 'b' || i,
              (array['service_account','api_key','workload','ai_agent','ci_token','db_role','oauth_app','certificate','bot'])[1 + i % 9],
              'identity ' || i, 'generic', case when i % 10 = 0 then 'staging' else 'production' end,
              (array['low','medium','high','critical'])[1 + i % 4],
              case when i % 17 = 0 then array['customer-facing'] else '{}'::text[] end
         from generate_series(1, ${IDENTITIES}) i`,
    // 1% of credentials share a value in groups of five.
    `insert into credentials (id, identity_id, name, type, fingerprint, status)
       select 'c' || i, 'b' || i, 'secret', 'api_key',
              case when i % 100 < 5 then md5('shared' || (i / 100)) else md5('own' || i) end, 'active'
         from generate_series(1, ${IDENTITIES}) i`,
    `insert into resources (id, kind, name, criticality)
       select 'r' || i, 'api', 'resource ' || i, (array['low','medium','high','critical'])[1 + i % 4] from generate_series(1, ${RESOURCES}) i`,
    // Skewed targets: floor(N * random()^3) favours low ids, so a few identities have thousands of neighbours.
    `insert into edges (kind, from_type, from_id, to_type, to_id)
       select distinct on (f, t) 'delegates_to', 'identity', 'b' || f, 'identity', 'b' || t
         from (select 1 + floor(random() * ${IDENTITIES})::int as f, 1 + floor(${IDENTITIES} * power(random(), 3))::int as t
                 from generate_series(1, ${IDENTITIES / 2})) x where f <> t`,
    `insert into edges (kind, from_type, from_id, to_type, to_id)
       select distinct on (f, t) 'trusts', 'identity', 'b' || f, 'identity', 'b' || t
         from (select 1 + floor(random() * ${IDENTITIES})::int as f, 1 + floor(${IDENTITIES} * power(random(), 3))::int as t
                 from generate_series(1, ${IDENTITIES / 2})) x where f <> t`,
    `insert into grants (id, identity_id, resource_id, permissions)
       select distinct on (i, r) 'g' || i || '-' || r, 'b' || i, 'r' || r, array['read','write']
         from (select i, 1 + floor(${RESOURCES} * power(random(), 2))::int as r from generate_series(1, ${IDENTITIES}) i) x`,
    `analyze`,
  ];
  for (const step of steps) await sql.raw(step).execute(store.db);
  const counts = await sql<{ edges: string; grants: string; credentials: string }>`
    select (select count(*) from edges) as edges, (select count(*) from grants) as grants, (select count(*) from credentials) as credentials`.execute(store.db);
  const c = counts.rows[0]!;
  console.log(`generated in ${((Date.now() - started) / 1000).toFixed(0)} s: ${Number(c.credentials) + Number(c.edges) + Number(c.grants)} edges (${c.credentials} uses, ${c.edges} delegates_to/trusts, ${c.grants} grants)`);
  return store;
}

/** The straightforward query: every relation, recursively, deduplicated only per (node, depth). */
const NAIVE_CTE = `
  with recursive walk(type, id, depth) as (
    select 'identity'::text, $1::text, 0
    union
    select n.type, n.id, w.depth + 1
      from walk w
      cross join lateral (
        select 'credential'::text as type, c.id from credentials c where w.type = 'identity' and c.identity_id = w.id and c.status = 'active'
        union all select 'identity', e.to_id from edges e where w.type = 'identity' and e.from_id = w.id and e.kind = 'delegates_to'
        union all select 'identity', e.from_id from edges e where w.type = 'identity' and e.to_id = w.id and e.kind = 'trusts'
        union all select 'identity', c.identity_id from credentials c where w.type = 'credential' and c.id = w.id
        union all select 'identity', c2.identity_id from credentials c1 join credentials c2 on c2.fingerprint = c1.fingerprint and c2.id <> c1.id
                   where w.type = 'credential' and c1.id = w.id
      ) n
     where w.depth < ${DEPTH}
  )
  select count(distinct (type, id)) as nodes,
         (select count(distinct g.resource_id) from grants g where g.identity_id in (select id from walk where type = 'identity')) as resources
    from walk`;

/** Heap still reachable after a full collection (`npm run bench` runs node with --expose-gc). */
function retainedHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

export async function run(args: string[] = []): Promise<void> {
  const store = await prepare(args.includes('--fresh'));
  try {
    // Deterministic starts spread over the id space (low ids are the hubs).
    const starts = Array.from({ length: SAMPLES }, (_, i) => `b${1 + ((i * 7919 * 104729) % IDENTITIES)}`);
    const graph = new IdentityGraph(store.db);
    const heapBefore = retainedHeap();
    const load = await timeMs(() => graph.sync());
    const heapMb = (retainedHeap() - heapBefore) / 2 ** 20;
    for (const id of starts.slice(0, 20)) await blastRadius(graph, { type: 'identity', id }, { depth: DEPTH }); // warm-up

    const ours: number[] = [];
    let nodes = 0;
    let truncated = 0;
    for (const id of starts) {
      const { ms, value } = await timeMs(() => blastRadius(graph, { type: 'identity', id }, { depth: DEPTH }));
      ours.push(ms);
      nodes += value.nodes.length;
      if (value.truncated) truncated++;
    }

    const client = new pg.Client({ connectionString: DB_URL });
    await client.connect();
    await client.query(`set statement_timeout = ${BASELINE_TIMEOUT_MS}`);
    const naive: number[] = [];
    const oursSame: number[] = ours.slice(0, BASELINE_SAMPLES);
    let timeouts = 0;
    for (const id of starts.slice(0, BASELINE_SAMPLES)) {
      const { ms } = await timeMs(() => client.query(NAIVE_CTE, [id]).catch((error: { code?: string }) => {
        if (error.code !== '57014') throw error;
        timeouts++;
      }));
      naive.push(ms);
    }
    await client.end();

    report(`blast radius, PostgreSQL, ${IDENTITIES.toLocaleString()} identities / 3M edges, depth ${DEPTH}`, [
      { name: `blastRadius() p50 (${SAMPLES} starts)`, value: percentile(ours, 50), unit: 'ms' },
      { name: `blastRadius() p99 (${SAMPLES} starts)`, value: percentile(ours, 99), unit: 'ms', target: { op: '<=', value: 50 } },
      { name: 'mean nodes per radius', value: nodes / SAMPLES, unit: 'nodes' },
      { name: 'radii truncated at 2000 nodes', value: truncated, unit: 'of ' + SAMPLES },
      { name: 'graph index load (once per process)', value: load.ms / 1000, unit: 's' },
      { name: 'graph index heap', value: heapMb, unit: 'MiB' },
    ], {
      name: `naive recursive CTE, first ${BASELINE_SAMPLES} starts (timeout ${BASELINE_TIMEOUT_MS} ms, ${timeouts} hit it)`,
      figures: [
        { name: 'naive CTE p50', value: percentile(naive, 50), unit: 'ms' },
        { name: 'naive CTE p99', value: percentile(naive, 99), unit: 'ms' },
      ],
    }, [
      { name: 'p50 naive / blastRadius', value: percentile(naive, 50) / percentile(oursSame, 50) },
      { name: 'p99 naive / blastRadius', value: percentile(naive, 99) / percentile(oursSame, 99) },
    ]);
  } finally {
    await store.close();
  }
}
