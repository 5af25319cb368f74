import type { PolicyJson } from './cedar.js';
import { entityFromJson } from './values.js';

/**
 * Groups policies by their scope so that a request visits only the policies whose principal,
 * action and resource constraints it satisfies. Each level (principal, then action, then
 * resource) files a policy under the form of its constraint: unscoped, `==` an entity, `in` an
 * entity, `is` a type (optionally `in` an entity). A request looks up exactly the forms it can
 * satisfy — its own entity and each of its ancestors — so the slice it gets is the set of policies
 * whose scope holds: not an approximation to filter again, the same test Cedar applies first.
 */

/** A request entity as the index sees it: its key, its type and the keys of its ancestors. */
export interface ScopeTarget {
  key: string;
  type: string;
  ancestors: ReadonlySet<string>;
}

type Constraint =
  | { op: 'All' }
  | { op: '=='; key: string }
  | { op: 'in'; keys: string[] }
  | { op: 'is'; type: string; inKey?: string };

class Level<T> {
  private all?: T;
  private readonly equal = new Map<string, T>();
  private readonly within = new Map<string, T>();
  private readonly typed = new Map<string, { plain?: T; within: Map<string, T> }>();

  constructor(private readonly create: () => T) {}

  /** The buckets a constraint files into (several for `action in [a, b]`). */
  buckets(constraint: Constraint): T[] {
    switch (constraint.op) {
      case 'All':
        return [(this.all ??= this.create())];
      case '==':
        return [getOrCreate(this.equal, constraint.key, this.create)];
      case 'in':
        return constraint.keys.map((key) => getOrCreate(this.within, key, this.create));
      case 'is': {
        let byType = this.typed.get(constraint.type);
        if (!byType) this.typed.set(constraint.type, (byType = { within: new Map() }));
        if (constraint.inKey === undefined) return [(byType.plain ??= this.create())];
        return [getOrCreate(byType.within, constraint.inKey, this.create)];
      }
    }
  }

  /** Calls `visit` with every bucket whose constraint the target satisfies. */
  matching(target: ScopeTarget, visit: (bucket: T) => void): void {
    if (this.all) visit(this.all);
    if (this.equal.size) {
      const bucket = this.equal.get(target.key);
      if (bucket) visit(bucket);
    }
    if (this.within.size) visitWithin(this.within, target, visit);
    if (this.typed.size) {
      const byType = this.typed.get(target.type);
      if (byType) {
        if (byType.plain) visit(byType.plain);
        if (byType.within.size) visitWithin(byType.within, target, visit);
      }
    }
  }
}

/** `in` holds for the entity itself and for each of its ancestors. */
function visitWithin<T>(within: Map<string, T>, target: ScopeTarget, visit: (bucket: T) => void): void {
  const self = within.get(target.key);
  if (self) visit(self);
  // Walk whichever side is smaller.
  if (target.ancestors.size <= within.size) {
    for (const key of target.ancestors) {
      const bucket = within.get(key);
      if (bucket) visit(bucket);
    }
  } else {
    for (const [key, bucket] of within) if (target.ancestors.has(key)) visit(bucket);
  }
}

function getOrCreate<T>(map: Map<string, T>, key: string, create: () => T): T {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}

export class ScopeIndex<P> {
  private readonly root = new Level(() => new Level(() => new Level<P[]>(() => [])));
  /** Policies filed under more than one bucket (`action in [a, b]`) and so maybe met twice. */
  readonly filedTwice = new Set<P>();

  add(policy: P, json: PolicyJson): void {
    const principal = constraintOf(json.principal);
    const action = constraintOf(json.action);
    const resource = constraintOf(json.resource);
    let filings = 0;
    for (const actions of this.root.buckets(principal)) {
      for (const resources of actions.buckets(action)) {
        for (const bucket of resources.buckets(resource)) {
          bucket.push(policy);
          filings++;
        }
      }
    }
    if (filings > 1) this.filedTwice.add(policy);
  }

  /** Calls `visit` with each bucket of policies whose scope the request satisfies. */
  slice(principal: ScopeTarget, action: ScopeTarget, resource: ScopeTarget, visit: (bucket: readonly P[]) => void): void {
    this.root.matching(principal, (actions) => actions.matching(action, (resources) => resources.matching(resource, visit)));
  }
}

function constraintOf(scope: PolicyJson['principal'] | PolicyJson['action']): Constraint {
  const c = scope as { op: string; entity?: unknown; entities?: unknown[]; entity_type?: string; in?: { entity?: unknown }; slot?: string };
  switch (c.op) {
    case 'All':
      return { op: 'All' };
    case '==':
      if (c.entity === undefined) throw new Error('template slots are not supported');
      return { op: '==', key: entityFromJson(c.entity).key };
    case 'in':
      if (c.entities) return { op: 'in', keys: c.entities.map((e) => entityFromJson(e).key) };
      if (c.entity === undefined) throw new Error('template slots are not supported');
      return { op: 'in', keys: [entityFromJson(c.entity).key] };
    case 'is':
      if (c.in && c.in.entity === undefined) throw new Error('template slots are not supported');
      return { op: 'is', type: c.entity_type!, inKey: c.in ? entityFromJson(c.in.entity).key : undefined };
    default:
      throw new Error(`unknown scope constraint ${c.op}`);
  }
}
