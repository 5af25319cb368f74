/**
 * Random Cedar policies, entities and requests for the differential test (and the benchmark's
 * shapes): scopes of every form (`==`, `in` a hierarchy, `is`, `is … in`, action lists),
 * `when`/`unless` over attributes, `has`, sets, records, `like`, `if`, arithmetic that overflows,
 * type errors, unknown entities, and a few policies and values only Cedar evaluates (extension
 * functions, entity tags, Longs past 2^53). Seeded, so a failure can be replayed.
 */
import type { CedarValueJson, EntityJson, TypeAndId } from '../../src/policy/cedar.js';
import type { EngineRequest } from '../../src/policy/engine.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Universe {
  entities: EntityJson[];
  principals: TypeAndId[];
  teams: TypeAndId[];
  tools: TypeAndId[];
  toolsets: TypeAndId[];
  actions: TypeAndId[];
  actionGroups: TypeAndId[];
}

const NS = 'Cordon';
const ref = (type: string, id: string): TypeAndId => ({ type: `${NS}::${type}`, id });
const lit = (e: TypeAndId) => `${e.type}::${JSON.stringify(e.id)}`;

export function makeUniverse(random: () => number, size = { principals: 24, teams: 8, tools: 24, toolsets: 6 }): Universe {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const teams = Array.from({ length: size.teams }, (_, i) => ref('Team', `t${i}`));
  const toolsets = Array.from({ length: size.toolsets }, (_, i) => ref('Toolset', `s${i}`));
  const actionGroups = [ref('Action', 'tools'), ref('Action', 'read'), ref('Action', 'all')];
  const actions = ['tool.call', 'tool.list', 'resource.read', 'resource.write', 'token.exchange'].map((id) => ref('Action', id));
  const principals = Array.from({ length: size.principals }, (_, i) => ref(i % 3 === 0 ? 'Workload' : 'AiAgent', `p${i}`));
  const tools = Array.from({ length: size.tools }, (_, i) => ref('Tool', `tool${i}`));
  const entities: EntityJson[] = [];
  // Hierarchies are DAGs: an entity's parents come before it.
  teams.forEach((team, i) => entities.push({ uid: team, attrs: { rank: i }, parents: i > 0 && random() < 0.6 ? [pick(teams.slice(0, i))] : [] }));
  toolsets.forEach((set, i) => entities.push({ uid: set, attrs: {}, parents: i > 0 && random() < 0.5 ? [pick(toolsets.slice(0, i))] : [] }));
  entities.push({ uid: actionGroups[2]!, attrs: {}, parents: [] });
  entities.push({ uid: actionGroups[0]!, attrs: {}, parents: [actionGroups[2]!] });
  entities.push({ uid: actionGroups[1]!, attrs: {}, parents: [actionGroups[2]!] });
  actions.forEach((action) => entities.push({ uid: action, attrs: {}, parents: action.id.startsWith('tool') ? [actionGroups[0]!] : action.id === 'resource.read' ? [actionGroups[1]!] : [] }));
  principals.forEach((principal, i) => {
    // Some principals are missing from the entities (an identity not in the inventory).
    if (i % 7 === 6) return;
    const attrs: Record<string, CedarValueJson> = { env: pick(['prod', 'staging', 'dev']), tags: pickSome(random, ['a', 'b', 'c', 'pii']) };
    if (random() < 0.8) attrs.level = Math.floor(random() * 10);
    if (random() < 0.7) attrs.owner = { __entity: pick(teams) };
    if (random() < 0.6) attrs.profile = random() < 0.5 ? { tier: pick(['gold', 'silver']), limit: Math.floor(random() * 1000) } : { tier: 'bronze' };
    entities.push({ uid: principal, attrs, parents: pickSome(random, teams, 2), ...(random() < 0.3 ? { tags: { region: 'eu' } } : {}) });
  });
  tools.forEach((tool, i) => {
    if (i % 9 === 8) return;
    const attrs: Record<string, CedarValueJson> = { cost: Math.floor(random() * 500) };
    if (random() < 0.8) attrs.risk = pick(['low', 'medium', 'high']);
    entities.push({ uid: tool, attrs, parents: pickSome(random, toolsets, 2) });
  });
  return { entities, principals, teams, tools, toolsets, actions, actionGroups };
}

function pickSome<T>(random: () => number, items: readonly T[], max = items.length): T[] {
  const out: T[] = [];
  for (const item of items) if (out.length < max && random() < 0.3) out.push(item);
  return out;
}

/** `count` random policies as `{ id: text }`; a few use what only Cedar evaluates. */
export function makePolicies(random: () => number, u: Universe, count: number): Record<string, string> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const n = (max: number) => Math.floor(random() * max);

  const principalScope = (specific = false) => {
    const r = specific ? 0.05 + random() * 0.95 : random();
    if (r < 0.05) return 'principal';
    if (r < 0.55) return `principal == ${lit(pick(u.principals))}`;
    if (r < 0.8) return `principal in ${lit(pick(u.teams))}`;
    if (r < 0.85) return `principal is ${NS}::${pick(['AiAgent', 'Workload'])}`;
    return `principal is ${NS}::${pick(['AiAgent', 'Workload'])} in ${lit(pick(u.teams))}`;
  };
  const actionScope = () => {
    const r = random();
    if (r < 0.1) return 'action';
    if (r < 0.6) return `action == ${lit(pick(u.actions))}`;
    if (r < 0.8) return `action in ${lit(pick(u.actionGroups))}`;
    return `action in [${[pick(u.actions), pick([...u.actions, ...u.actionGroups])].map(lit).join(', ')}]`;
  };
  const resourceScope = () => {
    const r = random();
    if (r < 0.1) return 'resource';
    if (r < 0.55) return `resource == ${lit(pick(u.tools))}`;
    if (r < 0.8) return `resource in ${lit(pick(u.toolsets))}`;
    if (r < 0.9) return `resource is ${NS}::Tool`;
    return `resource is ${NS}::Tool in ${lit(pick(u.toolsets))}`;
  };

  const atom = (): string => {
    switch (n(26)) {
      case 0: return `context.amount < ${n(200)}`;
      case 1: return `principal.level >= ${n(10)}`;
      case 2: return `resource.cost + context.amount > ${n(600)}`;
      case 3: return 'principal has level';
      case 4: return 'context has amount';
      case 5: return 'principal has profile.tier';
      case 6: return `principal.env == ${JSON.stringify(pick(['prod', 'staging', 'dev']))}`;
      case 7: return `resource.risk != ${JSON.stringify(pick(['low', 'high']))}`;
      case 8: return `principal.owner == ${lit(pick(u.teams))}`;
      case 9: return `principal in ${lit(pick(u.teams))}`;
      case 10: return `resource in ${lit(pick(u.toolsets))}`;
      case 11: return `principal.owner in ${lit(pick(u.teams))}`;
      case 12: return `context.target in [${lit(pick(u.teams))}, ${lit(pick(u.toolsets))}]`;
      case 13: return `action in ${lit(pick(u.actionGroups))}`;
      case 14: return `principal.tags.contains(${JSON.stringify(pick(['a', 'b', 'pii']))})`;
      case 15: return `principal.tags.containsAll(["a", ${JSON.stringify(pick(['b', 'c']))}])`;
      case 16: return `context.labels.containsAny(principal.tags)`;
      case 17: return 'context.labels.isEmpty()';
      case 18: return `principal.env like ${JSON.stringify(pick(['pr*', '*ing', 'd*v', '*', 's*a*g*']))}`;
      case 19: return `(if context.flag then principal.level > ${n(10)} else resource.cost < ${n(500)})`;
      case 20: return `context.big * ${pick(['1000000', '3', '1000000000000'])} > ${n(100)}`;
      case 21: return `{a: 1, b: context.amount} == context.rec`;
      case 22: return `context.rec.a == ${n(3)}`;
      case 23: return `principal.profile.limit - context.amount >= ${n(500) - 250}`;
      case 24: return `principal is ${NS}::${pick(['AiAgent', 'Workload'])}`;
      default: return `resource is ${NS}::Tool in ${lit(pick(u.toolsets))}`;
    }
  };
  const expr = (depth: number): string => {
    const r = random();
    if (depth <= 0 || r < 0.45) return atom();
    if (r < 0.65) return `(${expr(depth - 1)} && ${expr(depth - 1)})`;
    if (r < 0.85) return `(${expr(depth - 1)} || ${expr(depth - 1)})`;
    return `!(${expr(depth - 1)})`;
  };
  // Only Cedar evaluates these: the policy takes the Cedar path.
  const cedarOnly = () => pick([
    'ip("10.1.2.3").isInRange(ip("10.0.0.0/8"))',
    `decimal("1.${n(9)}").lessThan(decimal("1.5"))`,
    'principal.hasTag("region")',
    'context.amount < 9007199254740993',
  ]);

  const policies: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const forbid = chance(0.08);
    const clauses: string[] = [];
    // Forbids always have a condition, or a few unscoped ones would deny nearly everything.
    const k = 1 + n(2);
    for (let c = 0; c < k; c++) clauses.push(`${chance(0.7) ? 'when' : 'unless'} { ${expr(forbid ? 1 : 2)} }`);
    const onlyCedar = chance(0.03);
    if (onlyCedar) clauses.push(`when { ${cedarOnly()} || ${expr(1)} }`);
    // Policies only Cedar evaluates are scoped to a principal, so most requests never meet one.
    const principal = onlyCedar ? `principal == ${lit(pick(u.principals))}` : principalScope(forbid);
    policies[`policy-${i}`] = `${forbid ? 'forbid' : 'permit'} (${principal}, ${actionScope()}, ${resourceScope()})\n${clauses.join('\n')};`;
  }
  return policies;
}

/** A random request over the universe; now and then an unknown entity or an ill-typed context. */
export function makeRequest(random: () => number, u: Universe): EngineRequest {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const context: Record<string, CedarValueJson> = {
    flag: chance(0.95) ? chance(0.5) : 1,
    labels: pickSome(random, ['a', 'b', 'c']),
    target: { __entity: pick([...u.teams, ...u.toolsets]) },
    big: chance(0.9) ? Math.floor(random() * 100) : Math.floor(random() * 2 ** 40),
    rec: chance(0.5) ? { a: 1, b: 5 } : { a: Math.floor(random() * 3) },
  };
  if (chance(0.8)) context.amount = chance(0.95) ? Math.floor(random() * 300) : 'lots';
  if (chance(0.01)) context.ip = { __extn: { fn: 'ip', arg: '10.0.0.1' } };
  return {
    principal: chance(0.05) ? { type: `${NS}::AiAgent`, id: 'stranger' } : pick(u.principals),
    action: pick(u.actions),
    resource: chance(0.05) ? { type: `${NS}::Tool`, id: 'unlisted' } : pick(u.tools),
    context,
  };
}
