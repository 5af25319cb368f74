import type { Expr, PolicyJson } from './cedar.js';
import type { RequestEntities } from './entities.js';
import {
  EntityValue, EvaluationError, RecordValue, SetValue, Unsupported, fromJson, typeName, valueEquals, type Value,
} from './values.js';

/**
 * Compiles the conditions of a Cedar policy (its JSON form, from Cedar's own parser) into JS
 * closures, so most decisions never cross into WebAssembly. It follows Cedar's evaluation rules
 * (short-circuit `&&`/`||`/`if`, errors that make a policy not apply, `in` over the transitive
 * closure, structural `==`, overflow-checked Longs) for the core language. Extension functions,
 * entity tags and templates are not modelled: such a policy is evaluated by Cedar instead
 * (`Unsupported` at compile time), and so is a request holding a value this cannot represent
 * (`Unsupported` at run time). The differential test holds the two paths to the same answers.
 */

export interface Env {
  principal: EntityValue;
  action: EntityValue;
  resource: EntityValue;
  context(): RecordValue;
  entities: RequestEntities;
}

type Fn = (env: Env) => Value;

/** `true` when the policy's conditions hold; throws `EvaluationError` (or `Unsupported`). */
export type ConditionFn = (env: Env) => boolean;

export function compileConditions(policy: PolicyJson): ConditionFn {
  const clauses = policy.conditions.map((clause) => ({ when: clause.kind === 'when', body: compile(clause.body) }));
  if (clauses.length === 0) return () => true;
  return (env) => {
    for (const clause of clauses) {
      const value = clause.body(env);
      if (typeof value !== 'boolean') throw typeError('bool', value);
      if (value !== clause.when) return false;
    }
    return true;
  };
}

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

function compile(expr: Expr): Fn {
  const node = expr as Record<string, any>;
  const keys = Object.keys(node);
  if (keys.length !== 1) throw new Unsupported(`unexpected expression form ${keys.join(',')}`);
  const op = keys[0]!;
  const arg = node[op];
  switch (op) {
    case 'Value': {
      const value = fromJson(arg);
      return () => value;
    }
    case 'Var':
      switch (arg) {
        case 'principal': return (env) => env.principal;
        case 'action': return (env) => env.action;
        case 'resource': return (env) => env.resource;
        case 'context': return (env) => env.context();
        default: throw new Unsupported(`unknown variable ${String(arg)}`);
      }
    case '!': {
      const operand = compile(arg.arg);
      return (env) => !bool(operand(env));
    }
    case 'neg': {
      const operand = compile(arg.arg);
      return (env) => 0 - long(operand(env));
    }
    case '==': return binary(arg, (l, r) => valueEquals(l, r));
    case '!=': return binary(arg, (l, r) => !valueEquals(l, r));
    case '<': return binary(arg, (l, r) => long(l) < long(r));
    case '<=': return binary(arg, (l, r) => long(l) <= long(r));
    case '>': return binary(arg, (l, r) => long(l) > long(r));
    case '>=': return binary(arg, (l, r) => long(l) >= long(r));
    case '+': return binary(arg, (l, r) => checked(long(l) + long(r), () => BigInt(l as number) + BigInt(r as number), 'add'));
    case '-': return binary(arg, (l, r) => checked(long(l) - long(r), () => BigInt(l as number) - BigInt(r as number), 'subtract'));
    case '*': return binary(arg, (l, r) => checked(long(l) * long(r), () => BigInt(l as number) * BigInt(r as number), 'multiply'));
    case '&&': {
      const left = compile(arg.left);
      const right = compile(arg.right);
      return (env) => bool(left(env)) && bool(right(env));
    }
    case '||': {
      const left = compile(arg.left);
      const right = compile(arg.right);
      return (env) => bool(left(env)) || bool(right(env));
    }
    case 'if-then-else': {
      const test = compile(arg.if);
      const then = compile(arg.then);
      const otherwise = compile(arg.else);
      return (env) => (bool(test(env)) ? then(env) : otherwise(env));
    }
    case 'in': {
      const left = compile(arg.left);
      const right = compile(arg.right);
      return (env) => {
        const member = entity(left(env));
        return isIn(env, member, right(env));
      };
    }
    case 'is': {
      const left = compile(arg.left);
      const type = arg.entity_type as string;
      const within = arg.in === undefined ? undefined : compile(arg.in);
      return (env) => {
        const value = entity(left(env));
        if (value.type !== type) return false;
        return within ? isIn(env, value, within(env)) : true;
      };
    }
    case 'contains': return binary(arg, (l, r) => set(l).has(r));
    case 'containsAll': return binary(arg, (l, r) => {
      const container = set(l);
      return set(r).items.every((item) => container.has(item));
    });
    case 'containsAny': return binary(arg, (l, r) => {
      const container = set(l);
      return set(r).items.some((item) => container.has(item));
    });
    case 'isEmpty': {
      const operand = compile(arg.arg);
      return (env) => set(operand(env)).items.length === 0;
    }
    case '.': {
      const left = compile(arg.left);
      const attr = arg.attr as string;
      return (env) => attribute(env, left(env), attr);
    }
    case 'has': {
      const left = compile(arg.left);
      const path: string[] = Array.isArray(arg.attr) ? arg.attr : [arg.attr];
      return (env) => {
        let value = left(env);
        for (let i = 0; i < path.length; i++) {
          const fields = fieldsOf(env, value);
          const next = fields?.get(path[i]!);
          if (next === undefined) return false;
          value = next;
        }
        return true;
      };
    }
    case 'like': {
      const left = compile(arg.left);
      const pattern = (arg.pattern as ('Wildcard' | { Literal: string })[])
        .flatMap((p): (string | typeof WILDCARD)[] => (p === 'Wildcard' ? [WILDCARD] : [...p.Literal]));
      return (env) => {
        const value = left(env);
        if (typeof value !== 'string') throw typeError('string', value);
        return globMatch([...value], pattern);
      };
    }
    case 'Set': {
      const items = (arg as Expr[]).map(compile);
      return (env) => new SetValue(items.map((item) => item(env)));
    }
    case 'Record': {
      const fields = Object.entries(arg as Record<string, Expr>).map(([key, value]) => [key, compile(value)] as const);
      return (env) => new RecordValue(new Map(fields.map(([key, value]) => [key, value(env)])));
    }
    default:
      // Slots (templates), entity tags and extension functions are left to Cedar.
      throw new Unsupported(`${op} is evaluated by Cedar`);
  }
}

function binary(arg: { left: Expr; right: Expr }, apply: (left: Value, right: Value) => Value): Fn {
  const left = compile(arg.left);
  const right = compile(arg.right);
  return (env) => {
    const l = left(env);
    return apply(l, right(env));
  };
}

function isIn(env: Env, member: EntityValue, container: Value): boolean {
  if (container instanceof EntityValue) return member.key === container.key || env.entities.ancestors(member.key).has(container.key);
  if (!(container instanceof SetValue)) throw new EvaluationError(`type error: expected entity or set of entities, got ${typeName(container)}`);
  const targets = container.items.map(entity);
  if (targets.some((target) => target.key === member.key)) return true;
  const ancestors = env.entities.ancestors(member.key);
  return targets.some((target) => ancestors.has(target.key));
}

/** The attributes of an entity or the fields of a record; `undefined` for an unknown entity. */
function fieldsOf(env: Env, value: Value): Map<string, Value> | undefined {
  if (value instanceof EntityValue) return env.entities.get(value.key)?.attrs.fields;
  if (value instanceof RecordValue) return value.fields;
  throw new EvaluationError(`type error: expected entity or record, got ${typeName(value)}`);
}

function attribute(env: Env, value: Value, attr: string): Value {
  if (value instanceof EntityValue) {
    const record = env.entities.get(value.key);
    if (!record) throw new EvaluationError(`entity ${value.type}::${JSON.stringify(value.id)} does not exist`);
    const found = record.attrs.fields.get(attr);
    if (found === undefined) throw new EvaluationError(`${value.type}::${JSON.stringify(value.id)} does not have the attribute ${JSON.stringify(attr)}`);
    return found;
  }
  if (value instanceof RecordValue) {
    const found = value.fields.get(attr);
    if (found === undefined) throw new EvaluationError(`record does not have the attribute ${JSON.stringify(attr)}`);
    return found;
  }
  throw new EvaluationError(`type error: expected entity or record, got ${typeName(value)}`);
}

/** A JS result outside the safe range: an overflow error if past i64, otherwise Cedar decides. */
function checked(result: number, exact: () => bigint, verb: string): number {
  if (Number.isSafeInteger(result)) return result;
  const precise = exact();
  if (precise < MIN_LONG || precise > MAX_LONG) throw new EvaluationError(`integer overflow while attempting to ${verb}`);
  throw new Unsupported('a Long past 2^53 is evaluated by Cedar');
}

function bool(value: Value): boolean {
  if (typeof value !== 'boolean') throw typeError('bool', value);
  return value;
}

function long(value: Value): number {
  if (typeof value !== 'number') throw typeError('long', value);
  return value;
}

function entity(value: Value): EntityValue {
  if (!(value instanceof EntityValue)) throw typeError('entity', value);
  return value;
}

function set(value: Value): SetValue {
  if (!(value instanceof SetValue)) throw typeError('set', value);
  return value;
}

function typeError(expected: string, value: Value): EvaluationError {
  return new EvaluationError(`type error: expected ${expected}, got ${typeName(value)}`);
}

const WILDCARD = Symbol('wildcard');

/** Cedar's `like`: `*` matches any run of characters (code points); backtracks to the last star. */
function globMatch(text: string[], pattern: (string | typeof WILDCARD)[]): boolean {
  let t = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === WILDCARD) {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === WILDCARD) p++;
  return p === pattern.length;
}
