import { InvalidInputError, type Issue } from '../domain/errors.js';
import { checkParseSchema, schemaToJsonWithResolvedTypes, type EntityJson, type SchemaJson } from './cedar.js';
import { describeCedarError, locate } from './positions.js';

/**
 * Cordon's Cedar schema (`policies/cordon.cedarschema`), read into what the decision point needs
 * at request time: which entity types exist, what each action applies to, the type of its
 * context, and the action hierarchy as entities (Cedar takes action groups from the schema).
 */

/** A Cedar type from the schema, with common types resolved by name. */
export type CedarType = {
  type: string;
  element?: CedarType;
  attributes?: Record<string, CedarType & { required?: boolean }>;
  name?: string;
};

export interface ActionInfo {
  principalTypes: ReadonlySet<string>;
  resourceTypes: ReadonlySet<string>;
  context?: CedarType;
}

export interface PolicySchema {
  name: string;
  text: string;
  entityTypes: ReadonlySet<string>;
  /** By `Type::"id"` of the action. */
  actions: ReadonlyMap<string, ActionInfo>;
  commonTypes: ReadonlyMap<string, CedarType>;
  /** Every action as an entity with its groups as parents. */
  actionEntities: EntityJson[];
}

export function actionKey(type: string, id: string): string {
  return `${type}::${JSON.stringify(id)}`;
}

/** Parses and resolves a schema; errors name `name:line:col`. */
export function parseSchema(name: string, text: string): PolicySchema {
  const parsed = checkParseSchema(text);
  if (parsed.type !== 'success') throw schemaError(name, text, parsed.errors);
  const resolved = schemaToJsonWithResolvedTypes(text);
  if (resolved.type !== 'success') throw schemaError(name, text, resolved.errors);
  return describeSchema(name, text, resolved.json);
}

function schemaError(name: string, text: string, errors: Parameters<typeof describeCedarError>[0][]): InvalidInputError {
  const issues: Issue[] = errors.map((e) => ({ path: '/schema', source: locate(name, text, e), message: describeCedarError(e) }));
  return new InvalidInputError('ERR_POLICY_SCHEMA', `the Cedar schema ${name} is invalid: ${issues.map((i) => `${i.source} ${i.message}`).join('; ')}`, issues);
}

function describeSchema(name: string, text: string, json: SchemaJson<string>): PolicySchema {
  const entityTypes = new Set<string>();
  const actions = new Map<string, ActionInfo>();
  const commonTypes = new Map<string, CedarType>();
  const actionEntities: EntityJson[] = [];
  for (const [namespace, definition] of Object.entries(json)) {
    const qualify = (n: string) => (namespace ? `${namespace}::${n}` : n);
    for (const entityName of Object.keys(definition.entityTypes ?? {})) entityTypes.add(qualify(entityName));
    for (const [typeName, type] of Object.entries(definition.commonTypes ?? {})) commonTypes.set(qualify(typeName), type as CedarType);
    const actionType = qualify('Action');
    for (const [id, action] of Object.entries(definition.actions ?? {})) {
      const appliesTo = action.appliesTo;
      actions.set(actionKey(actionType, id), {
        principalTypes: new Set(appliesTo?.principalTypes ?? []),
        resourceTypes: new Set(appliesTo?.resourceTypes ?? []),
        context: appliesTo?.context as CedarType | undefined,
      });
      actionEntities.push({
        uid: { type: actionType, id },
        attrs: {},
        parents: (action.memberOf ?? []).map((group) => ({ type: group.type ?? actionType, id: group.id })),
      });
    }
  }
  return { name, text, entityTypes, actions, commonTypes, actionEntities };
}
