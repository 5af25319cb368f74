import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { InvalidInputError, type Issue } from '../domain/errors.js';
import {
  checkParseEntities, policySetTextToParts, policyToJson, validate, type DetailedError, type EntityJson,
} from './cedar.js';
import type { PolicyEntry } from './engine.js';
import { EntityGraph } from './entities.js';
import { GUARD_POLICY_ID, GUARD_POLICY_TEXT } from './guard.js';
import { byteLength, describeCedarError, locate, positionAt, positions, type Position } from './positions.js';
import { parseSchema, type PolicySchema } from './schema.js';
import { ACTION_TYPE, IDENTITY_TYPES, RESERVED_ID_PREFIX } from './vocabulary.js';

/**
 * Turns policy documents (files, or texts sent to the API) into a validated policy version:
 * each policy with its id (`@id("…")`, else `<document>#<n>`) and where it sits, checked against
 * the schema in strict mode together with the built-in guard. Every problem is reported at once,
 * each naming the policy and its `document:line:col`; nothing half-valid comes out.
 */

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export interface PolicyDocument {
  name: string;
  text: string;
}

export interface BundleInput {
  schema: PolicyDocument;
  policies: PolicyDocument[];
  /** Cedar JSON entities (tools, toolsets, resources…) that policies refer to. */
  entities?: PolicyDocument;
}

export interface LoadedPolicy extends PolicyEntry {
  /** `document:line:col` of the policy's first character. */
  source: string;
}

export interface PolicyBundle {
  schema: PolicySchema;
  /** The loaded policies, then the guard. */
  policies: LoadedPolicy[];
  entities: EntityJson[];
  warnings: Issue[];
  /** SHA-256 of the canonical input: the same documents give the same digest. */
  digest: string;
}

export function bundleDigest(input: BundleInput): string {
  return createHash('sha256').update(canonicalize({
    schema: input.schema.text,
    policies: input.policies.map((d) => [d.name, d.text]),
    entities: input.entities?.text ?? null,
  })!).digest('hex');
}

export function loadBundle(input: BundleInput): PolicyBundle {
  const schema = parseSchema(input.schema.name, input.schema.text);
  const issues: Issue[] = [];
  const policies: (LoadedPolicy & { byteStart: number })[] = [];
  const byId = new Map<string, LoadedPolicy>();
  const documentOf = new Map<string, { document: PolicyDocument; byteStart: number }>();
  const names = new Set<string>();

  for (const document of input.policies) {
    if (names.has(document.name)) {
      issues.push({ path: '/policies', source: document.name, message: `two policy documents are named ${document.name}` });
      continue;
    }
    names.add(document.name);
    for (const found of splitDocument(document, issues)) {
      const previous = byId.get(found.id);
      if (previous) {
        issues.push({ path: `/policies/${found.id}`, source: found.source, message: `policy ${JSON.stringify(found.id)} is already defined at ${previous.source}` });
      } else if (found.id.startsWith(RESERVED_ID_PREFIX)) {
        issues.push({ path: `/policies/${found.id}`, source: found.source, message: `policy ids starting with "${RESERVED_ID_PREFIX}" are reserved for Cordon's built-in policies` });
      } else {
        policies.push(found);
        byId.set(found.id, found);
        documentOf.set(found.id, { document, byteStart: found.byteStart });
      }
    }
  }

  const guard = { id: GUARD_POLICY_ID, text: GUARD_POLICY_TEXT, json: toJson(GUARD_POLICY_TEXT), source: 'built-in guard' };
  const all = [...policies.map(({ byteStart: _, ...p }) => p), guard];
  const warnings: Issue[] = [];
  if (issues.length === 0) {
    const answer = validate({
      schema: schema.text,
      validationSettings: { mode: 'strict' },
      policies: { staticPolicies: Object.fromEntries(all.map((p) => [p.id, p.text])) },
    });
    if (answer.type !== 'success') {
      issues.push(...answer.errors.map((e) => ({ path: '/schema', source: input.schema.name, message: describeCedarError(e) })));
    } else {
      const place = (policyId: string, error: DetailedError): Issue => {
        const at = documentOf.get(policyId);
        const source = at ? locate(at.document.name, at.document.text, error, at.byteStart) : policyId === GUARD_POLICY_ID ? 'built-in guard' : policyId;
        const why = policyId === GUARD_POLICY_ID ? ' (the built-in containment guard needs `risk: Cordon::Risk` in the context of every action)' : '';
        return { path: `/policies/${policyId}`, source, message: `policy ${JSON.stringify(policyId)}: ${describeCedarError(error)}${why}` };
      };
      issues.push(...answer.validationErrors.map((e) => place(e.policyId, e.error)));
      warnings.push(...answer.validationWarnings.map((e) => place(e.policyId, e.error)));
    }
  }

  const entities = input.entities ? readEntities(input.entities, schema, issues) : [];
  if (issues.length) {
    const shown = issues.slice(0, 5).map((i) => `${i.source} ${i.message}`).join('; ');
    throw new InvalidInputError('ERR_POLICY_INVALID', `the policy set is invalid (${issues.length} problem${issues.length > 1 ? 's' : ''}): ${shown}${issues.length > 5 ? '; …' : ''}`, issues);
  }
  return { schema, policies: all, entities: [...schema.actionEntities, ...entities], warnings, digest: bundleDigest(input) };
}

/** The policies of one document, each with its id and position; syntax errors go to `issues`. */
function splitDocument(document: PolicyDocument, issues: Issue[]): (LoadedPolicy & { byteStart: number })[] {
  const parts = policySetTextToParts(document.text);
  if (parts.type !== 'success') {
    for (const error of parts.errors) issues.push(syntaxIssue(document, error));
    return [];
  }
  for (const template of parts.policy_templates) {
    const at = positionAt(document.text, Buffer.from(document.text).indexOf(template));
    issues.push({ path: `/policies`, source: `${document.name}:${at.line}:${at.column}`, message: 'templates (policies with ?principal or ?resource slots) are not supported' });
  }
  if (parts.policy_templates.length) return [];
  const texts = inTextOrder(parts.policies);
  const starts = byteStarts(document, texts);
  const place = positions(document.text);
  const found: (LoadedPolicy & { byteStart: number })[] = [];
  for (let i = 0; i < texts.length; i++) found.push(describePolicy(document, texts[i]!, starts[i]!, place, i + 1));
  return found;
}

/** Where each policy starts: verbatim and in order, each is found after the one before. */
function byteStarts(document: PolicyDocument, texts: string[]): number[] {
  const bytes = Buffer.from(document.text, 'utf8');
  const starts: number[] = [];
  let cursor = 0;
  for (let i = 0; i < texts.length; i++) {
    const needle = Buffer.from(texts[i]!, 'utf8');
    const at = bytes.indexOf(needle, cursor);
    if (at < 0) throw new Error(`Cedar handed back a policy not found in ${document.name}`);
    starts.push(at);
    cursor = at + needle.length;
  }
  return starts;
}

function describePolicy(document: PolicyDocument, text: string, byteStart: number, place: (offset: number) => Position, rank: number): LoadedPolicy & { byteStart: number } {
  const { line, column } = place(byteStart);
  const json = toJson(text);
  return { id: json.annotations?.id ?? `${document.name}#${rank}`, text, json, source: `${document.name}:${line}:${column}`, byteStart };
}

/**
 * Cedar returns a document's policies sorted by the ids it gives them, `policy0`, `policy1`, …
 * in string order (`policy10` before `policy2`): undo that sort to get the order of the text.
 */
function inTextOrder(parts: string[]): string[] {
  const ids = parts.map((_, i) => `policy${i}`).sort();
  const ordered: string[] = [];
  for (let rank = 0; rank < ids.length; rank++) ordered[Number(ids[rank]!.slice('policy'.length))] = parts[rank]!;
  return ordered;
}

function syntaxIssue(document: PolicyDocument, error: DetailedError): Issue {
  const start = error.sourceLocations?.[0]?.start ?? byteLength(document.text);
  return {
    path: '/policies',
    source: locate(document.name, document.text, error),
    message: `${policyNameAt(document.text, start)}: ${describeCedarError(error)}`,
  };
}

/** Names the policy an error offset falls in: its `@id` when it has one, else where it starts. */
function policyNameAt(text: string, byteOffset: number): string {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const start = before.lastIndexOf(';') + 1;
  const id = /@id\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)/.exec(before.slice(start));
  if (id) return `policy ${JSON.stringify(id[1])}`;
  const first = before.slice(start).search(/\S/);
  const { line } = positionAt(text, Buffer.byteLength(before.slice(0, start + Math.max(first, 0))));
  return `the policy starting on line ${line}`;
}

function toJson(text: string) {
  const answer = policyToJson(text);
  if (answer.type !== 'success') throw new Error(`Cedar cannot give the JSON form of a policy it parsed: ${answer.errors.map((e) => e.message).join('; ')}`);
  return answer.json;
}

function readEntities(document: PolicyDocument, schema: PolicySchema, issues: Issue[]): EntityJson[] {
  let entities: EntityJson[];
  try {
    entities = JSON.parse(document.text);
  } catch (error) {
    issues.push({ path: '/entities', source: document.name, message: `not valid JSON: ${(error as Error).message}` });
    return [];
  }
  if (!Array.isArray(entities)) {
    issues.push({ path: '/entities', source: document.name, message: 'must be a JSON array of Cedar entities' });
    return [];
  }
  const before = issues.length;
  entities.forEach((entity, i) => {
    const type = (entity as { uid?: { type?: unknown } })?.uid?.type;
    if (typeof type === 'string' && IDENTITY_TYPES.has(type)) {
      issues.push({ path: `/entities/${i}`, source: document.name, message: `${type} entities come from the inventory, not from policy files` });
    }
    if (type === ACTION_TYPE) issues.push({ path: `/entities/${i}`, source: document.name, message: 'actions and their groups come from the schema' });
  });
  if (issues.length > before) return [];
  const parsed = checkParseEntities({ entities, schema: schema.text });
  if (parsed.type !== 'success') {
    issues.push(...parsed.errors.map((e) => ({ path: '/entities', source: document.name, message: describeCedarError(e) })));
    return [];
  }
  try {
    // Duplicates and cycles, which Cedar would only refuse at request time.
    new EntityGraph(entities);
  } catch (error) {
    issues.push({ path: '/entities', source: document.name, message: (error as Error).message });
    return [];
  }
  return entities;
}
