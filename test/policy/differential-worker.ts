/**
 * One shard of the differential test, in a worker thread so the shards use every core: builds the
 * same random universe and policies as every other shard (same seed), then decides its own random
 * requests with the indexed engine and with Cedar's `isAuthorized` over the whole set, and reports
 * every difference.
 *
 * Cedar spends ~40 µs turning each entity into its own form on every call, more than half the
 * reference's time here. So the reference is given the entities evaluation can reach — from the
 * request, its context and every entity a condition of the 1,000 policies names, through parents
 * and entity-valued attributes, computed here independently of the engine — which cannot change
 * an answer, since Cedar reaches entities no other way. Every 100th request is also asked with all
 * the entities, to show it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isAuthorized, policyToJson, preparsePolicySet, statefulIsAuthorized, type EntityJson } from '../../src/policy/cedar.js';
import { DecisionEngine, type EngineDecision, type EngineMode, type EngineRequest } from '../../src/policy/engine.js';
import { makePolicies, makeRequest, makeUniverse, rng } from './generate.js';

export interface ShardTask {
  /** Also ask with every entity of the universe for every n-th request. */
  allEntitiesEvery: number;
  seed: number;
  policies: number;
  shard: number;
  requests: number;
  mode: EngineMode;
  /** Also ask the stateless `isAuthorized` (re-parsing every policy) for every n-th request. */
  statelessEvery: number;
}

export interface ShardResult {
  compared: number;
  mismatches: string[];
  allow: number;
  denyByForbid: number;
  defaultDeny: number;
  withErrors: number;
  refused: number;
  statelessChecked: number;
  allEntitiesChecked: number;
  cedarCalls: number;
  fallbacks: number;
}

const task = workerData as ShardTask;
const random = rng(task.seed);
const universe = makeUniverse(random);
const texts = makePolicies(random, universe, task.policies);
const entries = Object.entries(texts).map(([id, text]) => {
  const answer = policyToJson(text);
  if (answer.type !== 'success') throw new Error(`generated policy ${id} does not parse: ${answer.errors[0]?.message}\n${text}`);
  return { id, text, json: answer.json };
});
const engine = new DecisionEngine(entries, universe.entities, task.mode);
const WHOLE = `differential-whole-${task.seed}`;
const parsed = preparsePolicySet(WHOLE, { staticPolicies: texts });
if (parsed.type !== 'success') throw new Error('the whole set does not parse');

/** Decision, reasons and the ids of the policies that errored: what must be identical. */
function summary(decision: string, reasons: string[], errored: string[]): string {
  return JSON.stringify([decision, [...reasons].sort(), [...new Set(errored)].sort()]);
}

function ours(decision: EngineDecision): string {
  if (decision.failure) return 'refused';
  return summary(decision.decision, decision.reasons, decision.errors.map((e) => e.policyId));
}

function reference(answer: ReturnType<typeof isAuthorized>): string {
  if (answer.type !== 'success') return 'refused';
  return summary(answer.response.decision, answer.response.diagnostics.reason, answer.response.diagnostics.errors.map((e) => e.policyId));
}

const key = (ref: { type: string; id: string }) => `${ref.type}::${JSON.stringify(ref.id)}`;
const byKey = new Map(universe.entities.map((e) => [key(e.uid as { type: string; id: string }), e]));
/**
 * Every entity literal written in a condition of any policy. Literals in a scope are only ever
 * compared by identity (`principal == E`, `principal in E` reads the principal's ancestors, not
 * E's), so their entities are never read.
 */
const named = [...Object.values(texts).map((text) => text.slice(text.indexOf(')\n'))).join('\n').matchAll(/(Cordon::\w+)::("(?:[^"\\]|\\.)*")/g)]
  .map((m) => `${m[1]}::${m[2]}`);

/** The entities Cedar can reach for a request: from its variables, its context and the policies' literals. */
function reachable(request: EngineRequest): EntityJson[] {
  const stack = [key(request.principal), key(request.action), key(request.resource), ...named, ...entityRefs(request.context)];
  const seen = new Set<string>();
  const out: EntityJson[] = [];
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const entity = byKey.get(next);
    if (!entity) continue;
    out.push(entity);
    stack.push(...entity.parents.map((p) => key(p as { type: string; id: string })), ...entityRefs(entity.attrs));
  }
  return out;
}

function entityRefs(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(entityRefs);
  const record = value as Record<string, unknown>;
  if (record.__entity) return [key(record.__entity as { type: string; id: string })];
  return Object.values(record).flatMap(entityRefs);
}

const requestRandom = rng(task.seed * 1000 + task.shard + 1);
const result: ShardResult = {
  compared: 0, mismatches: [], allow: 0, denyByForbid: 0, defaultDeny: 0, withErrors: 0, refused: 0, statelessChecked: 0, allEntitiesChecked: 0, cedarCalls: 0, fallbacks: 0,
};
for (let i = 0; i < task.requests; i++) {
  const request: EngineRequest = makeRequest(requestRandom, universe);
  const call = { principal: request.principal, action: request.action, resource: request.resource, context: request.context, entities: reachable(request) };
  const expected = reference(statefulIsAuthorized({ ...call, preparsedPolicySetId: WHOLE }));
  if (i % task.allEntitiesEvery === 0) {
    const withAll = reference(statefulIsAuthorized({ ...call, entities: universe.entities, preparsedPolicySetId: WHOLE }));
    result.allEntitiesChecked++;
    if (withAll !== expected) result.mismatches.push(`request ${JSON.stringify(request)}\n  isAuthorized, all entities: ${withAll}\n  isAuthorized, reachable:    ${expected}`);
  }
  const decision = engine.decide(request);
  const got = ours(decision);
  result.compared++;
  if (got !== expected && result.mismatches.push(`request ${JSON.stringify(request)}\n  isAuthorized: ${expected}\n  indexed:      ${got}`) >= 20) break;
  if (i % task.statelessEvery === 0) {
    const stateless = reference(isAuthorized({ ...call, policies: { staticPolicies: texts } }));
    result.statelessChecked++;
    if (stateless !== expected) result.mismatches.push(`request ${JSON.stringify(request)}\n  isAuthorized (stateless): ${stateless}\n  isAuthorized (pre-parsed): ${expected}`);
  }
  if (decision.failure) result.refused++;
  else if (decision.decision === 'allow') result.allow++;
  else if (decision.reasons.length) result.denyByForbid++;
  else result.defaultDeny++;
  if (decision.errors.length) result.withErrors++;
}
result.cedarCalls = engine.stats.cedarCalls;
result.fallbacks = engine.stats.fallbacks;
parentPort!.postMessage(result);
