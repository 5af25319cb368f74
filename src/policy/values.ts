/**
 * Cedar values as the in-process evaluator holds them. Booleans, Longs and strings are plain JS
 * values; entities, sets and records are small classes so that `==` can be structural, as in
 * Cedar. A Long is a JS number only while it is a safe integer: anything else is handed to Cedar
 * itself (`Unsupported`), never approximated.
 */

/** The evaluator met something it does not model (an extension value, a Long past 2^53): ask Cedar. */
export class Unsupported extends Error {}

/** A Cedar evaluation error: the policy does not apply and is reported in `errors`. */
export class EvaluationError extends Error {}

export class EntityValue {
  /** `type` never contains NUL, so this key is unique per entity. */
  readonly key: string;
  constructor(readonly type: string, readonly id: string) {
    this.key = entityKey(type, id);
  }
}

export class SetValue {
  private primitiveItems?: Set<boolean | number | string>;
  private entityKeys?: Set<string>;
  constructor(readonly items: Value[]) {}

  has(value: Value): boolean {
    if (typeof value !== 'object') return this.index().primitives.has(value);
    if (value instanceof EntityValue) return this.index().entities.has(value.key);
    return this.items.some((item) => valueEquals(item, value));
  }

  /** Primitives and entity keys, for membership in O(1); built on first use. */
  private index(): { primitives: Set<boolean | number | string>; entities: Set<string> } {
    if (!this.primitiveItems || !this.entityKeys) {
      this.primitiveItems = new Set();
      this.entityKeys = new Set();
      for (const item of this.items) {
        if (typeof item !== 'object') this.primitiveItems.add(item);
        else if (item instanceof EntityValue) this.entityKeys.add(item.key);
      }
    }
    return { primitives: this.primitiveItems, entities: this.entityKeys };
  }
}

export class RecordValue {
  constructor(readonly fields: Map<string, Value>) {}
}

export type Value = boolean | number | string | EntityValue | SetValue | RecordValue;

export function entityKey(type: string, id: string): string {
  return `${type}\u0000${id}`;
}

export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof EntityValue) return b instanceof EntityValue && a.key === b.key;
  if (a instanceof SetValue) {
    if (!(b instanceof SetValue)) return false;
    return a.items.every((item) => b.has(item)) && b.items.every((item) => a.has(item));
  }
  if (!(b instanceof RecordValue) || a.fields.size !== b.fields.size) return false;
  for (const [key, value] of a.fields) {
    const other = b.fields.get(key);
    if (other === undefined || !valueEquals(value, other)) return false;
  }
  return true;
}

export function typeName(value: Value): string {
  switch (typeof value) {
    case 'boolean': return 'bool';
    case 'number': return 'long';
    case 'string': return 'string';
    default:
      if (value instanceof EntityValue) return 'entity';
      return value instanceof SetValue ? 'set' : 'record';
  }
}

/** A Long from JSON: only safe integers are modelled here. */
export function long(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Unsupported(`the Long ${n} is outside the range this evaluator models`);
  return n;
}

/** Cedar's JSON value form (entity and extension escapes, arrays as sets, objects as records). */
export function fromJson(json: unknown): Value {
  switch (typeof json) {
    case 'boolean':
    case 'string':
      return json;
    case 'number':
      return long(json);
    case 'object': {
      if (json === null) throw new Unsupported('null is not a Cedar value');
      if (Array.isArray(json)) return new SetValue(json.map(fromJson));
      const record = json as Record<string, unknown>;
      if ('__entity' in record) return entityFromJson(record.__entity);
      if ('__extn' in record) throw new Unsupported('extension values are evaluated by Cedar');
      return recordFromJson(record);
    }
    default:
      throw new Unsupported(`${typeof json} is not a Cedar value`);
  }
}

export function recordFromJson(record: Record<string, unknown>): RecordValue {
  const fields = new Map<string, Value>();
  for (const key of Object.keys(record)) fields.set(key, fromJson(record[key]));
  return new RecordValue(fields);
}

/** `{ type, id }`, or the escaped form `{ __entity: { type, id } }` that Cedar also accepts there. */
export function entityFromJson(json: unknown): EntityValue {
  const ref = json as { type?: unknown; id?: unknown; __entity?: unknown };
  if (ref && typeof ref === 'object' && '__entity' in ref) return entityFromJson(ref.__entity);
  if (!ref || typeof ref.type !== 'string' || typeof ref.id !== 'string') throw new Unsupported('malformed entity reference');
  return new EntityValue(ref.type, ref.id);
}
