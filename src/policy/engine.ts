import { statefulIsAuthorized, type CedarValueJson, type EntityJson, type PolicyJson, type TypeAndId } from './cedar.js';
import { compileConditions, type ConditionFn, type Env } from './compile.js';
import { EntityGraph, RequestEntities, collectEntityKeys } from './entities.js';
import { ScopeIndex, type ScopeTarget } from './scope-index.js';
import { slicePool } from './slices.js';
import { EntityValue, EvaluationError, Unsupported, entityKey, recordFromJson, type RecordValue } from './values.js';

/** A policy as the engine takes it: its id, its Cedar text and Cedar's JSON form of it. */
export interface PolicyEntry {
  id: string;
  text: string;
  json: PolicyJson;
}

export interface EngineRequest {
  principal: TypeAndId;
  action: TypeAndId;
  resource: TypeAndId;
  context: Record<string, CedarValueJson>;
  /** Entities of this request only, over the version's own (e.g. the principal from the inventory). */
  entities?: EntityJson[];
}

export interface PolicyError {
  policyId: string;
  message: string;
}

export interface EngineDecision {
  decision: 'allow' | 'deny';
  /** The satisfied forbid policies of a deny, or the satisfied permit policies of an allow; sorted. */
  reasons: string[];
  errors: PolicyError[];
  /** Cedar refused the request as a whole (malformed context or entities): a deny with why. */
  failure?: string[];
}

/**
 * `compiled`: conditions run as compiled JS where the language allows, Cedar for the rest.
 * `cedar`: every policy of the slice is evaluated by Cedar, from a pre-parsed set per slice.
 */
export type EngineMode = 'compiled' | 'cedar';

interface IndexedPolicy {
  id: string;
  text: string;
  permit: boolean;
  /** Absent when the conditions use what only Cedar evaluates. */
  conditions?: ConditionFn;
  /** Entities the policy names, which Cedar must be given when it evaluates the policy. */
  literals: string[];
  /** Stamp of the last request that met it, to count a policy filed twice only once. */
  seen: number;
}

export interface EngineStats {
  decisions: number;
  /** Decisions that crossed into Cedar for at least one policy. */
  cedarCalls: number;
  /** Decisions re-evaluated by Cedar because a value was out of the compiled evaluator's reach. */
  fallbacks: number;
}

/**
 * Decides requests against one policy version. Built once per version (off to the side, then
 * swapped in), never changed afterwards. `decide` is synchronous: a request runs to the end on
 * the engine it started on.
 */
export class DecisionEngine {
  readonly stats: EngineStats = { decisions: 0, cedarCalls: 0, fallbacks: 0 };
  private readonly index = new ScopeIndex<IndexedPolicy>();
  private readonly graph: EntityGraph;
  private stamp = 0;

  constructor(policies: readonly PolicyEntry[], entities: readonly EntityJson[], readonly mode: EngineMode = 'compiled') {
    this.graph = new EntityGraph(entities);
    for (const policy of policies) {
      const literals: string[] = [];
      collectEntityKeys(policy.json.conditions, literals);
      for (const scope of [policy.json.principal, policy.json.action, policy.json.resource]) collectScopeKeys(scope, literals);
      this.index.add({ id: policy.id, text: policy.text, permit: policy.json.effect === 'permit', conditions: mode === 'compiled' ? tryCompile(policy.json) : undefined, literals, seen: 0 }, policy.json);
    }
  }

  decide(request: EngineRequest): EngineDecision {
    this.stats.decisions++;
    const entities = new RequestEntities(this.graph, request.entities);
    const principal = new EntityValue(request.principal.type, request.principal.id);
    const action = new EntityValue(request.action.type, request.action.id);
    const resource = new EntityValue(request.resource.type, request.resource.id);

    const stamp = ++this.stamp;
    const compiled: IndexedPolicy[] = [];
    const cedarOnly: IndexedPolicy[] = [];
    try {
      this.index.slice(target(principal, entities), target(action, entities), target(resource, entities), (bucket) => {
        for (const policy of bucket) {
          if (policy.seen === stamp) continue;
          policy.seen = stamp;
          (policy.conditions ? compiled : cedarOnly).push(policy);
        }
      });
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      // Ancestors could not be computed here: Cedar refuses such a request whatever the policies.
      return this.evaluateWithCedar(request, entities, []);
    }

    const outcome: Outcome = { forbids: [], permits: [], errors: [] };
    let context: RecordValue | undefined;
    const env: Env = { principal, action, resource, entities, context: () => (context ??= recordFromJson(request.context)) };
    try {
      for (const policy of compiled) {
        try {
          if (policy.conditions!(env)) (policy.permit ? outcome.permits : outcome.forbids).push(policy.id);
        } catch (error) {
          if (!(error instanceof EvaluationError)) throw error;
          outcome.errors.push({ policyId: policy.id, message: error.message });
        }
      }
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      this.stats.fallbacks++;
      return this.evaluateWithCedar(request, entities, [...compiled, ...cedarOnly]);
    }
    if (cedarOnly.length === 0) return conclude(outcome);
    const rest = this.evaluateWithCedar(request, entities, cedarOnly);
    if (rest.failure) return rest;
    if (rest.decision === 'allow') outcome.permits.push(...rest.reasons);
    else outcome.forbids.push(...rest.reasons);
    outcome.errors.push(...rest.errors);
    return conclude(outcome);
  }

  /** Cedar's answer for some policies of the slice, from their pre-parsed set. */
  private evaluateWithCedar(request: EngineRequest, entities: RequestEntities, policies: IndexedPolicy[]): EngineDecision {
    this.stats.cedarCalls++;
    const sorted = [...policies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const name = slicePool.acquire(this, JSON.stringify(sorted.map((p) => p.id)), () => Object.fromEntries(sorted.map((p) => [p.id, p.text])));
    const roots = [
      entityKey(request.principal.type, request.principal.id),
      entityKey(request.action.type, request.action.id),
      entityKey(request.resource.type, request.resource.id),
      ...sorted.flatMap((p) => p.literals),
    ];
    collectEntityKeys(request.context, roots);
    const answer = statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context,
      entities: entities.reachable(roots),
      preparsedPolicySetId: name,
    });
    if (answer.type !== 'success') return { decision: 'deny', reasons: [], errors: [], failure: answer.errors.map((e) => e.message) };
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      reasons: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })),
    };
  }
}

interface Outcome {
  forbids: string[];
  permits: string[];
  errors: PolicyError[];
}

/** Cedar's rule: any satisfied forbid denies; otherwise any satisfied permit allows; otherwise deny. */
function conclude(outcome: Outcome): EngineDecision {
  if (outcome.forbids.length) return { decision: 'deny', reasons: outcome.forbids.sort(), errors: outcome.errors };
  return { decision: outcome.permits.length ? 'allow' : 'deny', reasons: outcome.permits.sort(), errors: outcome.errors };
}

function target(entity: EntityValue, entities: RequestEntities): ScopeTarget {
  return { key: entity.key, type: entity.type, ancestors: entities.ancestors(entity.key) };
}

function tryCompile(json: PolicyJson): ConditionFn | undefined {
  try {
    return compileConditions(json);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function collectScopeKeys(scope: unknown, into: string[]): void {
  const c = scope as { entity?: TypeAndId; entities?: TypeAndId[]; in?: { entity?: TypeAndId } };
  for (const ref of [c.entity, ...(c.entities ?? []), c.in?.entity]) {
    if (ref && typeof ref.type === 'string' && typeof ref.id === 'string') into.push(entityKey(ref.type, ref.id));
  }
}
