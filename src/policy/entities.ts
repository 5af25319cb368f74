import type { EntityJson } from './cedar.js';
import { EntityValue, RecordValue, Unsupported, entityFromJson, entityKey, recordFromJson } from './values.js';

/**
 * The entities a decision can see: the ones a policy version declares (tools, toolsets…, read
 * once) and the ones a request brings (the principal from the inventory). The in-process
 * evaluator asks for attributes and ancestors; the Cedar path asks for exactly the entities a
 * request can reach, so it gets the same answers without shipping every entity across the
 * WebAssembly boundary.
 */
export class EntityRecord {
  readonly uid: EntityValue;
  readonly parents: EntityValue[];
  private converted?: RecordValue | Unsupported;

  constructor(readonly json: EntityJson) {
    this.uid = entityFromJson(json.uid);
    this.parents = (json.parents ?? []).map(entityFromJson);
  }

  get attrs(): RecordValue {
    if (!this.converted) {
      try {
        this.converted = recordFromJson(this.json.attrs ?? {});
      } catch (error) {
        if (!(error instanceof Unsupported)) throw error;
        this.converted = error;
      }
    }
    if (this.converted instanceof Unsupported) throw this.converted;
    return this.converted;
  }
}

/** The entities of a policy version, with each one's ancestors computed once. */
export class EntityGraph {
  readonly records = new Map<string, EntityRecord>();
  readonly ancestors = new Map<string, ReadonlySet<string>>();
  /** Parents named but not declared here: a request that brings one of them changes ancestors. */
  readonly undeclaredParents = new Set<string>();

  constructor(entities: readonly EntityJson[]) {
    for (const json of entities) {
      const record = new EntityRecord(json);
      if (this.records.has(record.uid.key)) throw new Error(`entity ${describeKey(record.uid.key)} is declared twice`);
      this.records.set(record.uid.key, record);
    }
    for (const record of this.records.values()) {
      for (const parent of record.parents) if (!this.records.has(parent.key)) this.undeclaredParents.add(parent.key);
    }
    for (const key of this.records.keys()) this.ancestorsOf(key, new Set());
  }

  private ancestorsOf(key: string, visiting: Set<string>): ReadonlySet<string> {
    const known = this.ancestors.get(key);
    if (known) return known;
    const record = this.records.get(key);
    if (!record) return EMPTY;
    if (visiting.has(key)) throw new Error(`the entity hierarchy has a cycle through ${describeKey(key)}`);
    visiting.add(key);
    const result = new Set<string>();
    for (const parent of record.parents) {
      result.add(parent.key);
      for (const above of this.ancestorsOf(parent.key, visiting)) result.add(above);
    }
    visiting.delete(key);
    this.ancestors.set(key, result);
    return result;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** One request's view: its own entities over the version's graph. */
export class RequestEntities {
  private readonly own = new Map<string, EntityRecord>();
  private readonly computed = new Map<string, ReadonlySet<string>>();
  /** A request entity that the version's entities name as a parent: their ancestors change. */
  private readonly extendsGraph: boolean;

  constructor(readonly graph: EntityGraph, entities: readonly EntityJson[] = []) {
    let extendsGraph = false;
    for (const json of entities) {
      const record = new EntityRecord(json);
      if (this.own.has(record.uid.key) || graph.records.has(record.uid.key)) {
        throw new Error(`entity ${describeKey(record.uid.key)} is given twice`);
      }
      this.own.set(record.uid.key, record);
      if (graph.undeclaredParents.has(record.uid.key)) extendsGraph = true;
    }
    this.extendsGraph = extendsGraph;
  }

  get(key: string): EntityRecord | undefined {
    return this.own.get(key) ?? this.graph.records.get(key);
  }

  /** Every entity `key` is `in` (not itself), as Cedar's transitive closure gives it. */
  ancestors(key: string): ReadonlySet<string> {
    if (!this.extendsGraph && !this.own.has(key)) return this.graph.ancestors.get(key) ?? EMPTY;
    return this.closure(key, new Set());
  }

  private closure(key: string, visiting: Set<string>): ReadonlySet<string> {
    if (!this.extendsGraph && !this.own.has(key)) return this.graph.ancestors.get(key) ?? EMPTY;
    const known = this.computed.get(key);
    if (known) return known;
    const record = this.get(key);
    if (!record) return EMPTY;
    // Cedar refuses the whole request on a cycle: let Cedar say so.
    if (visiting.has(key)) throw new Unsupported('cycle in the request entities');
    visiting.add(key);
    const result = new Set<string>();
    for (const parent of record.parents) {
      result.add(parent.key);
      for (const above of this.closure(parent.key, visiting)) result.add(above);
    }
    visiting.delete(key);
    this.computed.set(key, result);
    return result;
  }

  /**
   * The entities evaluation can reach from `roots`: through parents (for `in`) and through
   * entity values in attributes (for `.` and `has`). Evaluating with these alone gives the same
   * result as evaluating with all of them.
   */
  reachable(roots: Iterable<string>): EntityJson[] {
    const seen = new Set<string>();
    const out: EntityJson[] = [];
    const stack = [...roots];
    while (stack.length) {
      const key = stack.pop()!;
      if (seen.has(key)) continue;
      seen.add(key);
      const record = this.get(key);
      if (!record) continue;
      out.push(record.json);
      for (const parent of record.parents) stack.push(parent.key);
      collectEntityKeys(record.json.attrs, stack);
    }
    return out;
  }
}

/** Keys of every entity named inside a Cedar JSON value (escaped `__entity` form). */
export function collectEntityKeys(json: unknown, into: string[]): void {
  if (json === null || typeof json !== 'object') return;
  if (Array.isArray(json)) {
    for (const item of json) collectEntityKeys(item, into);
    return;
  }
  const record = json as Record<string, unknown>;
  if ('__entity' in record) {
    const ref = record.__entity as { type?: unknown; id?: unknown };
    if (ref && typeof ref.type === 'string' && typeof ref.id === 'string') into.push(entityKey(ref.type, ref.id));
    return;
  }
  for (const value of Object.values(record)) collectEntityKeys(value, into);
}

export function describeKey(key: string): string {
  const [type, id] = key.split('\u0000');
  return `${type}::${JSON.stringify(id)}`;
}
