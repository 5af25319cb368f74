import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { celEnv, CelScalar, isCelError, mapType, parse as parseCel, plan } from '@bufbuild/cel';
import Type, { type Static } from 'typebox';
import { parseAllDocuments } from 'yaml';
import { CONFIDENCES, DETECTION_TYPES, NIST_CSF_ID, OWASP_NHI_ITEMS, SEVERITIES, type FrameworkRefs } from '../domain/detection.js';
import { InvalidInputError, type Issue } from '../domain/errors.js';
import { EVENT_FORMATS, EVENT_TYPES } from '../domain/event.js';
import { IDENTITY_STATUSES } from '../domain/identity.js';
import { validator } from '../domain/validation.js';

/** A detection rule as written in `rules/*.yaml` (one rule per YAML document). */
export const RuleSpec = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,99}$', description: 'Stable id: lower-case letters, digits, . _ -' }),
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  type: Type.Enum(DETECTION_TYPES),
  severity: Type.Enum(SEVERITIES),
  confidence: Type.Enum(CONFIDENCES),
  enabled: Type.Optional(Type.Boolean()),
  /**
   * Cheap pre-filter, checked before the condition (which then runs on few events): formats,
   * event types, actions, and the statuses of the identity.
   */
  when: Type.Optional(Type.Object({
    formats: Type.Optional(Type.Array(Type.Enum(EVENT_FORMATS), { minItems: 1 })),
    types: Type.Optional(Type.Array(Type.Enum(EVENT_TYPES), { minItems: 1 })),
    actions: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    identityStatuses: Type.Optional(Type.Array(Type.Enum(IDENTITY_STATUSES), { minItems: 1 })),
  }, { additionalProperties: false })),
  condition: Type.String({ minLength: 1, maxLength: 4000, description: 'CEL over `event`, `identity` and `baseline`; must be true to fire' }),
  frameworks: Type.Object({
    owaspNhi: Type.Optional(Type.Array(Type.Enum(OWASP_NHI_ITEMS))),
    nistCsf: Type.Optional(Type.Array(Type.String({ pattern: NIST_CSF_ID.source, description: 'NIST CSF 2.0 subcategory, e.g. DE.CM-01' }))),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

export type RuleInput = Static<typeof RuleSpec>;

export interface Rule extends Omit<RuleInput, 'frameworks' | 'condition'> {
  condition: string;
  frameworks: FrameworkRefs;
  source: string;
  /** True when the condition holds for these bindings; an evaluation error is false. */
  matches(bindings: RuleBindings): boolean;
}

/** What a rule's condition sees. Every field is always present (empty when unknown). */
export interface RuleBindings {
  event: Record<string, unknown>;
  identity: Record<string, unknown>;
  baseline: Record<string, unknown>;
}

const ruleDocument = validator(RuleSpec);
const dyn = mapType(CelScalar.STRING, CelScalar.DYN);
const env = celEnv({ variables: { event: dyn, identity: dyn, baseline: dyn } });

/** Bindings with every field a rule may name, used to check a condition when it is loaded. */
export const SAMPLE_BINDINGS: RuleBindings = {
  event: {
    id: '', type: 'api.call', format: 'native', source: '', time: '2026-01-01T00:00:00.000Z', hour: 0, weekday: 'mon',
    action: '', target: '', outcome: 'success', sourceIp: '', asn: 0, geo: '', userAgent: '', privileged: false, scopes: [],
    verified: false, jti: '', fingerprints: [], attributes: {},
  },
  identity: { resolved: false, id: '', name: '', kind: '', provider: '', environment: '', status: '', criticality: '', tags: [], scheduled: false },
  baseline: { observations: 0, sourceSeen: false, targetSeen: false, daysSinceLastSeen: -1 },
};

/** Compiles one rule, or lists what is wrong with it (paths inside the rule). */
export function compileRule(document: unknown, source: string): Rule | Issue[] {
  const issues = ruleDocument.issues(document);
  if (issues.length) return issues;
  const spec = document as RuleInput;
  let evaluate: (b: RuleBindings) => unknown;
  try {
    evaluate = plan(env, parseCel(spec.condition)) as (b: RuleBindings) => unknown;
  } catch (error) {
    return [{ path: '/condition', message: `is not valid CEL: ${(error as Error).message.split('\n')[0]}` }];
  }
  const trial = evaluate(SAMPLE_BINDINGS);
  if (isCelError(trial)) return [{ path: '/condition', message: `cannot be evaluated: ${trial.message} (the variables are event, identity and baseline; see docs/detection.md)` }];
  if (typeof trial !== 'boolean') return [{ path: '/condition', message: 'must evaluate to true or false' }];
  return {
    ...spec,
    frameworks: { owaspNhi: spec.frameworks.owaspNhi ?? [], nistCsf: spec.frameworks.nistCsf ?? [] },
    source,
    matches: (bindings) => evaluate(bindings) === true,
  };
}

/**
 * Loads every `*.yaml` / `*.yml` file of a directory: each YAML document is a rule. Everything
 * is validated before anything is used; one error lists every problem, each naming the file,
 * the rule and the field.
 */
export async function loadRules(dir: string, root = process.cwd()): Promise<Rule[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const rules: Rule[] = [];
  const issues: Issue[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const shown = relative(root, path) || path;
    const documents = parseAllDocuments(await readFile(path, 'utf8'), { uniqueKeys: true });
    for (const [n, doc] of (Array.isArray(documents) ? documents : [documents]).entries()) {
      if (doc.errors.length) {
        issues.push({ path: '', source: `${shown} document ${n + 1}`, message: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
        continue;
      }
      const value = doc.toJS();
      if (value === null || value === undefined) continue;
      const id = typeof value?.id === 'string' ? value.id : `document ${n + 1}`;
      const compiled = compileRule(value, shown);
      if (Array.isArray(compiled)) issues.push(...compiled.map((i) => ({ ...i, source: `${shown} rule "${id}"` })));
      else rules.push(compiled);
    }
  }
  const seen = new Map<string, string>();
  for (const rule of rules) {
    const first = seen.get(rule.id);
    if (first) issues.push({ path: '/id', source: `${rule.source} rule "${rule.id}"`, message: `is already used by a rule in ${first}` });
    seen.set(rule.id, rule.source);
  }
  if (issues.length) {
    throw new InvalidInputError('ERR_RULES_INVALID', `detection rules are invalid: ${issues.map((i) => `${i.source} ${i.path || '/'} ${i.message}`).join('; ')}`, issues);
  }
  return rules.filter((r) => r.enabled !== false);
}
