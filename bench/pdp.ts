/**
 * Policy decisions (SPEC §5: p50 ≤ 20 µs and p99 ≤ 100 µs at 10,000 policies, ≥ 100× faster than
 * `isAuthorized` over the whole set).
 *
 * In process: a set of N policies shaped like a deployment's (most name an agent or a team and a
 * toolset or tool; some forbid; ten unscoped), validated against the shipped schema with the
 * guard, and requests from random agents, 70% for a tool of a toolset they hold a permit for,
 * completed as live ones are (time, risk, the principal from an in-memory inventory). Figure: p50/p99 of `DecisionEngine.decide` at 100, 1,000
 * and 10,000 policies. Baselines, same requests, same run: Cedar's `isAuthorized` over the whole
 * set (re-parsing it, as that call does) and `statefulIsAuthorized` over the whole set pre-parsed;
 * both are given only the entities the request reaches, so the ratio is about policies.
 *
 * Over HTTP: `POST /v1/authorize` on the embedded store (PGlite, in memory) with the example
 * inventory and the shipped policies, 16 concurrent keep-alive clients in this process; each
 * decision reads the principal's status and attributes and is logged. Baseline: `GET /healthz`
 * the same way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApi } from '../src/api/server.js';
import { SYSTEM_ACTOR } from '../src/domain/roles.js';
import { isAuthorized, preparsePolicySet, statefulIsAuthorized, type EntityJson, type TypeAndId } from '../src/policy/cedar.js';
import { readInventorySources } from '../src/inventory/source.js';
import { DecisionEngine, type EngineRequest } from '../src/policy/engine.js';
import type { IdentityFacts, PrincipalRisk } from '../src/policy/facts.js';
import { readPolicyDir } from '../src/policy/files.js';
import { loadBundle } from '../src/policy/load.js';
import { prepareRequest } from '../src/policy/prepare.js';
import { loadConfig } from '../src/runtime/config.js';
import { openContext } from '../src/runtime/context.js';
import { createLogger } from '../src/runtime/logger.js';
import { openStore } from '../src/store/db.js';
import { percentile, report } from './lib.js';

const SIZES = [100, 1_000, 10_000];
const SAMPLES = 20_000;
const HTTP_SECONDS = 5;
const HTTP_CONCURRENCY = 16;
const EXAMPLE_INVENTORY = new URL('../examples/inventory/', import.meta.url).pathname;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  policies: Record<string, string>;
  entities: EntityJson[];
  identities: Map<string, IdentityFacts>;
  agents: string[];
  tools: string[];
  /** The toolsets each agent has a permit for. */
  granted: Map<string, string[]>;
}

/** N policies over a universe that grows with N, as a deployment's does. */
function workload(n: number, random: () => number): Workload {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const agents = Array.from({ length: Math.max(10, n / 4) }, (_, i) => `agent-${i}`);
  const teams = Array.from({ length: Math.max(4, n / 100) }, (_, i) => `team-${i}`);
  const toolsets = Array.from({ length: Math.max(4, n / 50) }, (_, i) => `toolset-${i}`);
  const tools = toolsets.flatMap((set) => Array.from({ length: 10 }, (_, i) => `${set}.tool-${i}`));
  const entities: EntityJson[] = [
    ...toolsets.map((set) => ({ uid: { type: 'Cordon::Toolset', id: set }, attrs: {}, parents: [] })),
    ...tools.map((tool) => ({ uid: { type: 'Cordon::Tool', id: tool }, attrs: { risk: pick(['low', 'low', 'medium', 'high']) }, parents: [{ type: 'Cordon::Toolset', id: tool.split('.')[0]! }] })),
  ];
  const identities = new Map(agents.map((id): [string, IdentityFacts] => [id, {
    id, kind: 'ai_agent', name: id, environment: random() < 0.8 ? 'production' : 'staging', provider: 'cordon',
    criticality: pick(['low', 'medium', 'high']), tags: random() < 0.3 ? ['customer-facing'] : [], teams: [pick(teams), ...(random() < 0.3 ? [pick(teams)] : [])],
    status: 'active',
  }]));
  const agent = (id: string) => `Cordon::AiAgent::"${id}"`;
  const condition = () => pick([
    '',
    ' when { context has input && context.input has amount && context.input.amount <= 500 }',
    ' when { context.time.hour >= 7 && context.time.hour < 19 }',
    ' when { principal.environment == "production" }',
    ' unless { principal.tags.contains("customer-facing") }',
  ]);
  const policies: Record<string, string> = {};
  const granted = new Map<string, string[]>();
  // A few global rules, as any deployment has; they apply to every request.
  for (let i = 0; i < 10; i++) policies[`global-${i}`] = `forbid (principal, action, resource) when { context.time.hour == ${i} && context.time.weekday == "sun" };`;
  for (let i = Object.keys(policies).length; i < n; i++) {
    const r = random();
    const [who, set] = [pick(agents), pick(toolsets)];
    if (r < 0.7) granted.set(who, [...(granted.get(who) ?? []), set]);
    policies[`policy-${i}`] = r < 0.7
      ? `permit (principal == ${agent(who)}, action == Cordon::Action::"tool.call", resource in Cordon::Toolset::"${set}")${condition()};`
      : r < 0.85
        ? `permit (principal in Cordon::Team::"${pick(teams)}", action == Cordon::Action::"tool.call", resource == Cordon::Tool::"${pick(tools)}")${condition()};`
        : r < 0.95
          ? `forbid (principal is Cordon::AiAgent, action == Cordon::Action::"tool.call", resource == Cordon::Tool::"${pick(tools)}") when { principal.tags.contains("customer-facing") };`
          : `forbid (principal in Cordon::Team::"${pick(teams)}", action, resource in Cordon::Toolset::"${pick(toolsets)}") when { resource has risk && resource.risk == "high" && context.risk.status != "active" };`;
  }
  return { policies, entities, identities, agents, tools, granted };
}

/** The entities a request reaches: its principal, its resource and their ancestors, the action's groups. */
function reached(request: EngineRequest, all: EntityJson[]): EntityJson[] {
  const key = (ref: unknown) => `${(ref as TypeAndId).type}::${(ref as TypeAndId).id}`;
  const byKey = new Map(all.map((e) => [key(e.uid), e]));
  const out: EntityJson[] = [...(request.entities ?? [])];
  const stack = [request.resource, request.action].map((r) => `${r.type}::${r.id}`);
  const seen = new Set<string>();
  while (stack.length) {
    const next = stack.pop()!;
    const entity = byKey.get(next);
    if (!entity || seen.has(next)) continue;
    seen.add(next);
    out.push(entity);
    for (const parent of entity.parents) stack.push(key(parent));
  }
  return out;
}

async function inProcess(size: number): Promise<void> {
  const random = rng(size);
  const w = workload(size, random);
  const dir = await readPolicyDir(loadConfig().policyDir);
  const started = performance.now();
  const bundle = loadBundle({
    schema: dir.schema,
    policies: [{ name: 'bench.cedar', text: Object.values(w.policies).join('\n') }],
    entities: { name: 'entities.json', text: JSON.stringify(w.entities) },
  });
  const engine = new DecisionEngine(bundle.policies, bundle.entities);
  const loadMs = performance.now() - started;
  const risk = new Map<string, PrincipalRisk>(w.agents.map((id) => [id, { status: random() < 0.02 ? 'quarantined' : 'active' }]));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  // Agents mostly call tools they were given, sometimes others.
  const asked = Array.from({ length: SAMPLES }, () => {
    const agent = pick(w.agents);
    const sets = w.granted.get(agent);
    const tool = sets && random() < 0.7 ? `${pick(sets)}.tool-${Math.floor(random() * 10)}` : pick(w.tools);
    return {
      request: {
        principal: { type: 'Cordon::AiAgent', id: agent },
        action: { type: 'Cordon::Action', id: 'tool.call' },
        resource: { type: 'Cordon::Tool', id: tool },
        context: random() < 0.5 ? { input: { amount: Math.floor(random() * 1000) } } : {},
      },
      at: new Date(Date.UTC(2025, 0, 5 + Math.floor(random() * 7), Math.floor(random() * 24))),
    };
  });
  const facts = { identities: w.identities, risk };
  const requests = asked.map(({ request, at }) => prepareRequest(bundle.schema, request, facts, at));

  for (const request of requests.slice(0, 2000)) engine.decide(request); // warm-up
  const ours: number[] = [];
  let allowed = 0;
  for (const request of requests) {
    const t0 = performance.now();
    const decision = engine.decide(request);
    ours.push((performance.now() - t0) * 1000);
    if (decision.decision === 'allow') allowed++;
  }
  // What a live request also costs in process, short of reading the inventory: schema checks and enrichment.
  const prepared: number[] = [];
  for (const { request, at } of asked) {
    const t0 = performance.now();
    engine.decide(prepareRequest(bundle.schema, request, facts, at));
    prepared.push((performance.now() - t0) * 1000);
  }

  const texts = Object.fromEntries(bundle.policies.map((p) => [p.id, p.text]));
  const whole = `bench-whole-${size}`;
  preparsePolicySet(whole, { staticPolicies: texts });
  const baselineCount = size >= 10_000 ? 5 : size >= 1_000 ? 20 : 100;
  const stateless: number[] = [];
  const stateful: number[] = [];
  for (const request of requests.slice(0, baselineCount)) {
    const call = { principal: request.principal, action: request.action, resource: request.resource, context: request.context, entities: reached(request, bundle.entities) };
    let t0 = performance.now();
    const a = isAuthorized({ ...call, policies: { staticPolicies: texts } });
    stateless.push((performance.now() - t0) * 1000);
    t0 = performance.now();
    const b = statefulIsAuthorized({ ...call, preparsedPolicySetId: whole });
    stateful.push((performance.now() - t0) * 1000);
    const ourDecision = engine.decide(request).decision;
    if (a.type !== 'success' || b.type !== 'success' || a.response.decision !== ourDecision || b.response.decision !== ourDecision) {
      throw new Error(`the baseline disagrees with the engine on ${JSON.stringify(request)}`);
    }
  }

  report(`policy decisions in process, ${size.toLocaleString()} policies (+ guard), ${SAMPLES.toLocaleString()} requests, ${(100 * allowed / SAMPLES).toFixed(0)}% allowed`, [
    { name: 'decide() p50', value: percentile(ours, 50), unit: 'µs', ...(size === 10_000 ? { target: { op: '<=', value: 20 } } : {}) },
    { name: 'decide() p99', value: percentile(ours, 99), unit: 'µs', ...(size === 10_000 ? { target: { op: '<=', value: 100 } } : {}) },
    { name: 'prepareRequest + decide() p50', value: percentile(prepared, 50), unit: 'µs' },
    { name: 'prepareRequest + decide() p99', value: percentile(prepared, 99), unit: 'µs' },
    { name: 'load + validate + index', value: loadMs, unit: 'ms' },
    { name: 'decisions that needed Cedar', value: (100 * engine.stats.cedarCalls) / engine.stats.decisions, unit: '%' },
  ], {
    name: `Cedar over the whole set, first ${baselineCount} requests (same answers checked)`,
    figures: [
      { name: 'isAuthorized p50', value: percentile(stateless, 50), unit: 'µs' },
      { name: 'statefulIsAuthorized (pre-parsed) p50', value: percentile(stateful, 50), unit: 'µs' },
    ],
  }, [
    { name: 'isAuthorized p50 / decide p50', value: percentile(stateless, 50) / percentile(ours, 50), ...(size === 10_000 ? { target: 100 } : {}) },
    { name: 'pre-parsed p50 / decide p50', value: percentile(stateful, 50) / percentile(ours, 50) },
  ]);
}

async function overHttp(): Promise<void> {
  const logger = createLogger('warn');
  const dataDir = await mkdtemp(join(tmpdir(), 'cordon-bench-pdp-'));
  const store = await openStore({});
  const context = await openContext({ ...loadConfig({}), dataDir }, logger, store);
  try {
    await context.inventory.importSources(await readInventorySources([EXAMPLE_INVENTORY]), SYSTEM_ACTOR);
    await context.policies.ready();
    const { token } = await context.tokens.createToken({ name: 'bench', subject: 'bench', role: 'workload' }, SYSTEM_ACTOR);
    const api = await buildApi({ ...context, version: 'bench' });
    const base = await api.listen({ host: '127.0.0.1', port: 0 });
    const tools = ['tickets.read', 'tickets.reply', 'customers.export', 'refunds.create', 'ledger.read'];
    const body = (i: number) => JSON.stringify({
      principal: { type: 'Cordon::AiAgent', id: 'agent-support' },
      action: { type: 'Cordon::Action', id: 'tool.call' },
      resource: { type: 'Cordon::Tool', id: tools[i % tools.length] },
    });
    const authorized = await throughput(async (i) => {
      const res = await fetch(`${base}/v1/authorize`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body(i) });
      if (res.status !== 200) throw new Error(`authorize answered ${res.status}`);
      await res.arrayBuffer();
    });
    const health = await throughput(async () => {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
    });
    await api.close();
    report(`policy decisions over HTTP, embedded store (PGlite), ${HTTP_CONCURRENCY} concurrent clients in this process, ${HTTP_SECONDS} s`, [
      { name: 'POST /v1/authorize', value: authorized.perSecond, unit: 'decisions/s' },
      { name: 'POST /v1/authorize p50 latency', value: authorized.p50, unit: 'ms' },
    ], {
      name: 'GET /healthz, same clients',
      figures: [{ name: 'GET /healthz', value: health.perSecond, unit: 'requests/s' }],
    }, [{ name: 'authorize / healthz', value: authorized.perSecond / health.perSecond }]);
  } finally {
    await context.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function throughput(call: (i: number) => Promise<void>): Promise<{ perSecond: number; p50: number }> {
  const latencies: number[] = [];
  const end = performance.now() + HTTP_SECONDS * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await call(count++);
      latencies.push(performance.now() - t0);
    }
  }));
  return { perSecond: latencies.length / HTTP_SECONDS, p50: percentile(latencies, 50) };
}

export async function run(): Promise<void> {
  for (const size of SIZES) await inProcess(size);
  await overHttp();
}
