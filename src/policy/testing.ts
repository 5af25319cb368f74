import Type, { type Static } from 'typebox';
import { parse as parseYaml } from 'yaml';
import { IDENTITY_KINDS, IDENTITY_STATUSES } from '../domain/identity.js';
import { InvalidInputError } from '../domain/errors.js';
import { validator } from '../domain/validation.js';
import { DecisionEngine } from './engine.js';
import type { IdentityFacts, PrincipalRisk } from './facts.js';
import type { PolicyBundle } from './load.js';
import { prepareRequest } from './prepare.js';
import { ACTION_TYPE, IDENTITY_ENTITY_TYPES } from './vocabulary.js';

/**
 * Policy tests (`bin/cordon policies test`): YAML files of cases, each a request and the decision
 * expected. Identities are declared in the file as the inventory would describe them, and each
 * request is completed exactly as the decision point completes a live one (time, task, risk), so
 * a test exercises the same path as production, offline.
 */

const Ref = Type.Object({ type: Type.String({ minLength: 1 }), id: Type.String({ minLength: 1 }) }, { additionalProperties: false });

const Identity = Type.Object({
  kind: Type.Enum(IDENTITY_KINDS),
  name: Type.Optional(Type.String()),
  environment: Type.Optional(Type.String()),
  provider: Type.Optional(Type.String()),
  criticality: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  teams: Type.Optional(Type.Array(Type.String())),
  status: Type.Optional(Type.Enum(IDENTITY_STATUSES)),
}, { additionalProperties: false });

const Case = Type.Object({
  name: Type.String({ minLength: 1 }),
  principal: Type.Union([Type.String({ minLength: 1, description: 'An identity declared in the file' }), Ref]),
  action: Type.Union([Type.String({ minLength: 1, description: 'An action id of Cordon::Action' }), Ref]),
  resource: Ref,
  context: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  task: Type.Optional(Type.String({ minLength: 1 })),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'When the request is made (UTC); default 2025-01-06T12:00:00Z, a Monday noon' })),
  status: Type.Optional(Type.Enum(IDENTITY_STATUSES, { description: 'Overrides the principal\'s status for this case' })),
  expect: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  reasons: Type.Optional(Type.Array(Type.String(), { description: 'The exact policies that decide' })),
}, { additionalProperties: false });

export const PolicyTestFile = Type.Object({
  identities: Type.Optional(Type.Record(Type.String(), Identity)),
  cases: Type.Array(Case, { minItems: 1 }),
}, { additionalProperties: false });
export type PolicyTestFile = Static<typeof PolicyTestFile>;

const testFile = validator(PolicyTestFile);

export interface CaseResult {
  file: string;
  name: string;
  passed: boolean;
  expected: string;
  got: string;
}

const DEFAULT_TIME = '2025-01-06T12:00:00Z';

export function parseTestFile(name: string, text: string): PolicyTestFile {
  let document: unknown;
  try {
    document = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    throw new InvalidInputError('ERR_POLICY_TEST_FILE', `${name} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, [{ path: '', source: name, message: 'not valid YAML' }]);
  }
  const issues = testFile.issues(document);
  if (issues.length) {
    throw new InvalidInputError('ERR_POLICY_TEST_FILE', `${name} is not a policy test file: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues.map((i) => ({ ...i, source: name })));
  }
  return document as PolicyTestFile;
}

export function runPolicyTests(bundle: PolicyBundle, files: { name: string; file: PolicyTestFile }[]): CaseResult[] {
  const engine = new DecisionEngine(bundle.policies, bundle.entities);
  return files.flatMap(({ name: fileName, file }) => file.cases.map((c): CaseResult => {
    const declared = file.identities ?? {};
    const principal = typeof c.principal === 'string'
      ? { type: declared[c.principal] ? IDENTITY_ENTITY_TYPES[declared[c.principal]!.kind] : 'Cordon::Unknown', id: c.principal }
      : c.principal;
    const identities = new Map<string, IdentityFacts>();
    const risk = new Map<string, PrincipalRisk>();
    for (const [id, identity] of Object.entries(declared)) {
      identities.set(id, {
        id, kind: identity.kind, name: identity.name ?? id, environment: identity.environment ?? 'production',
        provider: identity.provider ?? 'cordon', criticality: identity.criticality ?? 'medium', tags: identity.tags ?? [], teams: identity.teams ?? [],
        status: identity.status ?? 'active',
      });
      risk.set(id, { status: identity.status ?? 'active' });
    }
    if (c.status) risk.set(principal.id, { status: c.status });
    const expected = describe(c.expect, c.reasons);
    try {
      const prepared = prepareRequest(bundle.schema, {
        principal,
        action: typeof c.action === 'string' ? { type: ACTION_TYPE, id: c.action } : c.action,
        resource: c.resource,
        context: c.context,
        ...(c.task ? { task: { id: c.task } } : {}),
      }, { identities, risk }, new Date(c.at ?? DEFAULT_TIME));
      const decision = engine.decide(prepared);
      const got = describe(decision.decision, decision.reasons, decision.errors.map((e) => `${e.policyId}: ${e.message}`));
      const passed = decision.decision === c.expect && (!c.reasons || sameSet(c.reasons, decision.reasons));
      return { file: fileName, name: c.name, passed, expected, got };
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return { file: fileName, name: c.name, passed: false, expected, got: `invalid request: ${error.message}` };
    }
  }));
}

function describe(decision: string, reasons?: string[], errors: string[] = []): string {
  return `${decision}${reasons ? ` by [${[...reasons].sort().join(', ')}]` : ''}${errors.length ? ` with errors [${errors.join('; ')}]` : ''}`;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}
