import Type, { type Static } from 'typebox';
import type { Issue } from '../domain/errors.js';
import { validator } from '../domain/validation.js';
import type { CedarValueJson } from './cedar.js';
import { actionKey, type ActionInfo, type CedarType, type PolicySchema } from './schema.js';
import { ENRICHED_CONTEXT } from './vocabulary.js';

/**
 * What a caller sends to be decided, and the checks it passes before any policy sees it: the
 * entity types and action are the schema's, the action applies to them, and the context has the
 * schema's type for that action, field by field. Cedar would skip a policy whose condition meets
 * an ill-typed value — a skipped `forbid` can let a `permit` through — so the request is refused
 * instead, naming the field.
 */

const EntityRef = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 200, description: 'Cedar entity type, e.g. Cordon::AiAgent' }),
  id: Type.String({ minLength: 1, maxLength: 500 }),
}, { additionalProperties: false });

export const AuthorizeRequest = Type.Object({
  principal: EntityRef,
  action: EntityRef,
  resource: EntityRef,
  context: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Facts from the caller, typed by the schema for the action' })),
  task: Type.Optional(Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false, description: 'The task the request is made for' })),
}, { additionalProperties: false });
export type AuthorizeRequest = Static<typeof AuthorizeRequest>;

export const authorizeRequest = validator(AuthorizeRequest);

/** The action a request names, once its principal and resource types are known to fit it. */
export function checkScope(schema: PolicySchema, request: AuthorizeRequest, issues: Issue[]): ActionInfo | undefined {
  const action = schema.actions.get(actionKey(request.action.type, request.action.id));
  if (!action) {
    issues.push({ path: '/action', message: `${actionKey(request.action.type, request.action.id)} is not an action of the schema` });
    return undefined;
  }
  if (action.principalTypes.size === 0) {
    issues.push({ path: '/action', message: `${request.action.id} is an action group: ask for one of its actions` });
    return undefined;
  }
  const before = issues.length;
  if (!action.principalTypes.has(request.principal.type)) {
    issues.push({ path: '/principal/type', message: `must be one of: ${[...action.principalTypes].join(', ')} (for ${request.action.id})` });
  }
  if (!action.resourceTypes.has(request.resource.type)) {
    issues.push({ path: '/resource/type', message: `must be one of: ${[...action.resourceTypes].join(', ')} (for ${request.action.id})` });
  }
  return issues.length === before ? action : undefined;
}

/** Fields Cordon fills, refused from the caller. */
export function checkCallerContext(context: Record<string, unknown>, issues: Issue[]): void {
  for (const field of ENRICHED_CONTEXT) {
    if (field in context) {
      issues.push({ path: `/context/${field}`, message: field === 'task' ? 'is set by Cordon from the request\'s task' : 'is set by Cordon' });
    }
  }
}

/**
 * Checks `value` against the context type and returns it in Cedar's JSON form (entity references
 * written `{ "type", "id" }` become `{ "__entity": … }`), or `undefined` with `issues` filled.
 */
export function typedContext(schema: PolicySchema, type: CedarType | undefined, value: Record<string, unknown>, issues: Issue[]): Record<string, CedarValueJson> | undefined {
  const before = issues.length;
  const typed = conform(schema, type ?? { type: 'Record', attributes: {} }, value, '/context', issues);
  return issues.length === before ? (typed as Record<string, CedarValueJson>) : undefined;
}

function conform(schema: PolicySchema, declared: CedarType, value: unknown, path: string, issues: Issue[]): CedarValueJson | undefined {
  const type = resolve(schema, declared);
  const fail = (message: string) => {
    issues.push({ path, message });
    return undefined;
  };
  switch (type.type) {
    case 'String':
      return typeof value === 'string' ? value : fail('must be a string');
    case 'Long':
      return Number.isSafeInteger(value) ? (value as number) : fail('must be an integer between -(2^53 - 1) and 2^53 - 1');
    case 'Bool':
    case 'Boolean':
      return typeof value === 'boolean' ? value : fail('must be a boolean');
    case 'Set': {
      if (!Array.isArray(value)) return fail('must be an array (a Cedar set)');
      return value.map((item, i) => conform(schema, type.element!, item, `${path}/${i}`, issues)) as CedarValueJson[];
    }
    case 'Record': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('must be an object (a Cedar record)');
      const out: Record<string, CedarValueJson> = {};
      const fields = type.attributes ?? {};
      for (const [key, field] of Object.entries(fields)) {
        const given = (value as Record<string, unknown>)[key];
        if (given === undefined) {
          if (field.required !== false) issues.push({ path: `${path}/${key}`, message: 'is required' });
          continue;
        }
        const typed = conform(schema, field, given, `${path}/${key}`, issues);
        if (typed !== undefined) out[key] = typed;
      }
      for (const key of Object.keys(value)) {
        if (!(key in fields)) issues.push({ path: `${path}/${key}`, message: 'is not declared in the schema for this action' });
      }
      return out;
    }
    case 'Entity': {
      const ref = (value as { __entity?: unknown })?.__entity ?? value;
      const { type: entityType, id } = (ref ?? {}) as { type?: unknown; id?: unknown };
      if (entityType !== type.name || typeof id !== 'string') return fail(`must be an entity reference { "type": "${type.name}", "id": "…" }`);
      return { __entity: { type: type.name!, id } };
    }
    case 'ipaddr':
    case 'decimal':
    case 'datetime':
    case 'duration': {
      // Written as the string the extension's constructor takes, or in Cedar's escaped form.
      const fn = EXTENSION_CONSTRUCTORS[type.type]!;
      const extn = (value as { __extn?: { fn?: unknown; arg?: unknown } })?.__extn;
      const arg = typeof value === 'string' ? value : extn?.fn === fn ? extn.arg : undefined;
      if (typeof arg !== 'string') return fail(`must be a ${type.type} string, e.g. as ${fn}("…") takes it`);
      return { __extn: { fn, arg } };
    }
    default:
      return fail(`has a type this decision point cannot check (${type.type})`);
  }
}

const EXTENSION_CONSTRUCTORS: Record<string, string> = { ipaddr: 'ip', decimal: 'decimal', datetime: 'datetime', duration: 'duration' };

function resolve(schema: PolicySchema, type: CedarType): CedarType {
  let current = type;
  for (let hops = 0; hops < 32; hops++) {
    const common = schema.commonTypes.get(current.type);
    if (!common) return current;
    current = common;
  }
  return current;
}
