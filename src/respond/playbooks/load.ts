import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { Value } from 'typebox/value';
import { digestPayload } from '../../audit/chain.js';
import type { ActionName } from '../../domain/action-run.js';
import { confidenceRank, type Confidence, type DetectionType, type Severity } from '../../domain/detection.js';
import { InvalidInputError, type Issue } from '../../domain/errors.js';
import type { IdentityKind, Provider } from '../../domain/identity.js';
import {
  durationMs, type ApprovalDefault, type ApproverRole, type GuardCondition, type GuardEffect, type TargetSelector,
} from '../../domain/playbook.js';
import { validator } from '../../domain/validation.js';
import { parseSourceText, type InventorySource } from '../../inventory/source.js';
import { ACTION_CATALOGUE } from '../actions/catalogue.js';
import { PlaybookSpec, type PlaybookInput, type StepInput } from './schema.js';

/** A step as the planner uses it: defaults applied, durations in milliseconds. */
export interface Step {
  id: string;
  tier: string;
  action: ActionName;
  description?: string;
  target: TargetSelector;
  params: Record<string, unknown>;
  owner?: string;
  approval: 'auto' | { roles: ApproverRole[]; quorum: number; timeoutMs: number; default: ApprovalDefault };
  guards: { when: GuardCondition; above?: number; then: GuardEffect }[];
  continueOnError: boolean;
  timeoutMs: number;
  maxAttempts: number;
}

export interface Playbook {
  id: string;
  title: string;
  description?: string;
  priority: number;
  match: {
    types: DetectionType[];
    minSeverity?: Severity;
    minConfidence?: Confidence;
    maxConfidence?: Confidence;
    identity: 'required' | 'absent' | 'any';
    identityKinds?: IdentityKind[];
    providers?: Provider[];
    tags?: string[];
    environments?: string[];
  };
  steps: Step[];
  escalation: { always: boolean; reason?: string; team?: string };
  /** SHA-256 of the canonical document: versions are told apart by it. */
  digest: string;
  /** The document as written (kept with each stored version). */
  document: PlaybookInput;
}

export const DEFAULT_PRIORITY = 100;
export const DEFAULT_STEP_TIMEOUT_MS = 60_000;
export const MAX_STEP_TIMEOUT_MS = 3_600_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;
const MAX_APPROVAL_TIMEOUT_MS = 30 * 86_400_000;
/** Upper bounds of the duration parameters some actions take. */
const PARAM_LIMITS: Partial<Record<ActionName, { field: string; maxMs: number; max: string }>> = {
  quarantine: { field: 'ttl', maxMs: 7 * 86_400_000, max: '7d' },
  raise_monitoring: { field: 'duration', maxMs: 30 * 86_400_000, max: '30d' },
};

const playbookDocument = validator(PlaybookSpec);
const paramValidators = Object.fromEntries(Object.values(ACTION_CATALOGUE).map((a) => [a.name, validator(a.params)]));

/**
 * Checks one playbook document and compiles it, or lists every problem: each issue's path is
 * inside the document, and its message names the step (`step "disable"`) when it is about one.
 */
export function compilePlaybook(document: unknown): Playbook | Issue[] {
  const issues = playbookDocument.issues(document).map((i) => ({ ...i, message: aboutStep(document, i.path, i.message) }));
  if (issues.length) return issues;
  const input = document as PlaybookInput;
  const steps: Step[] = [];
  const seen = new Set<string>();
  input.tiers.forEach((tier, t) => tier.steps.forEach((step, s) => {
    const path = `/tiers/${t}/steps/${s}`;
    const problems = checkStep(step, path);
    if (seen.has(step.id)) problems.push({ path: `${path}/id`, message: `step "${step.id}": the id is already used by another step of this playbook` });
    seen.add(step.id);
    issues.push(...problems);
    if (problems.length === 0) steps.push(compileStep(step, tier.name));
  }));
  const { minConfidence, maxConfidence } = input.match;
  if (minConfidence && maxConfidence && confidenceRank(minConfidence) > confidenceRank(maxConfidence)) {
    issues.push({ path: '/match/maxConfidence', message: 'must not be below minConfidence' });
  }
  if (issues.length) return issues;
  return {
    id: input.id,
    title: input.title,
    description: input.description,
    priority: input.priority ?? DEFAULT_PRIORITY,
    match: { ...input.match, identity: input.match.identity ?? 'required' },
    steps,
    escalation: { always: input.escalation?.always ?? false, reason: input.escalation?.reason, team: input.escalation?.team },
    digest: digestPayload(input),
    document: input,
  };
}

function checkStep(step: StepInput, path: string): Issue[] {
  const issues: Issue[] = [];
  const at = (field: string, message: string) => issues.push({ path: `${path}/${field}`, message: `step "${step.id}": ${message}` });
  const action = ACTION_CATALOGUE[step.action];
  if (step.target && !action.targets.includes(step.target)) {
    at('target', `${step.action} cannot act on "${step.target}"; it acts on: ${action.targets.join(', ')}`);
  }
  for (const issue of paramValidators[step.action]!.issues(withDefaults(step))) {
    at(`params${issue.path === '/' ? '' : issue.path}`, `${step.action} params ${issue.path === '/' ? '' : `${issue.path.slice(1)} `}${issue.message}`);
  }
  const limit = PARAM_LIMITS[step.action];
  const limited = limit && step.params?.[limit.field];
  if (limit && typeof limited === 'string' && (durationMs(limited) ?? 0) > limit.maxMs) at(`params/${limit.field}`, `must be at most ${limit.max}`);
  if (step.timeout !== undefined && (durationMs(step.timeout)! > MAX_STEP_TIMEOUT_MS || durationMs(step.timeout) === 0)) {
    at('timeout', 'must be more than 0s and at most 1h');
  }
  if (step.approval !== undefined && step.approval !== 'auto' && step.approval.timeout !== undefined) {
    const ms = durationMs(step.approval.timeout)!;
    if (ms === 0 || ms > MAX_APPROVAL_TIMEOUT_MS) at('approval/timeout', 'must be more than 0s and at most 30d');
  }
  step.guards?.forEach((guard, g) => {
    if (guard.when === 'blast_radius_above' && guard.above === undefined) at(`guards/${g}/above`, 'blast_radius_above needs `above`: the number of identities');
    if (guard.when !== 'blast_radius_above' && guard.above !== undefined) at(`guards/${g}/above`, `only blast_radius_above takes \`above\`, not ${guard.when}`);
  });
  return issues;
}

/** The step's parameters with the action's defaults filled in (a parameter left out takes its default). */
function withDefaults(step: StepInput): Record<string, unknown> {
  return Value.Default(ACTION_CATALOGUE[step.action].params, structuredClone(step.params ?? {})) as Record<string, unknown>;
}

function compileStep(step: StepInput, tier: string): Step {
  const action = ACTION_CATALOGUE[step.action];
  const approval = step.approval === undefined || step.approval === 'auto' ? 'auto' as const : {
    roles: step.approval.roles ?? ['approver', 'admin'],
    quorum: step.approval.quorum ?? 1,
    timeoutMs: step.approval.timeout ? durationMs(step.approval.timeout)! : DEFAULT_APPROVAL_TIMEOUT_MS,
    default: step.approval.default ?? 'deny',
  };
  return {
    id: step.id,
    tier,
    action: step.action,
    description: step.description,
    target: step.target ?? action.targets[0]!,
    params: withDefaults(step),
    owner: step.owner,
    approval,
    guards: step.guards ?? [],
    continueOnError: step.continueOnError ?? false,
    timeoutMs: step.timeout ? durationMs(step.timeout)! : DEFAULT_STEP_TIMEOUT_MS,
    maxAttempts: step.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
}

/** Prefixes a schema message with the step it is about, read from the path. */
function aboutStep(document: unknown, path: string, message: string): string {
  const match = /^\/tiers\/(\d+)\/steps\/(\d+)/.exec(path);
  if (!match) return message;
  const step = (document as PlaybookInput | undefined)?.tiers?.[Number(match[1])]?.steps?.[Number(match[2])];
  const id = typeof step?.id === 'string' ? step.id : `#${Number(match[2]) + 1} of tier ${Number(match[1]) + 1}`;
  return `step "${id}": ${message}`;
}

/** A playbook read from text, every problem located in it (`file:line:col`, playbook, path). */
export function parsePlaybook(source: InventorySource): Playbook | Issue[] {
  const compiled = compilePlaybook(source.document);
  if (!Array.isArray(compiled)) return compiled;
  const id = typeof (source.document as { id?: unknown })?.id === 'string' ? (source.document as { id: string }).id : undefined;
  return compiled.map((issue) => ({
    ...issue,
    source: source.locate(issue.path),
    message: id ? `playbook "${id}": ${issue.message}` : issue.message,
  }));
}

export function playbookError(issues: Issue[]): InvalidInputError {
  return new InvalidInputError('ERR_PLAYBOOK_INVALID', `playbooks are invalid: ${issues.map((i) => `${i.source ? `${i.source} ` : ''}${i.path || '/'}: ${i.message}`).join('; ')}`, issues);
}

/** Parses and compiles one playbook given as YAML or JSON text (the API, the CLI). */
export function playbookFromText(text: string, name: string): Playbook {
  const compiled = parsePlaybook(parseSourceText(text, name, 'ERR_PLAYBOOK_SYNTAX'));
  if (Array.isArray(compiled)) throw playbookError(compiled);
  return compiled;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Loads every playbook file of a directory (one playbook per file). Everything is checked
 * before anything is used; one error lists every problem of every file.
 */
export async function loadPlaybookDir(dir: string, root = process.cwd()): Promise<Playbook[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => EXTENSIONS.has(extname(f))).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidInputError('ERR_PLAYBOOK_DIR', `playbook directory ${dir} does not exist`, [{ path: '', source: dir, message: 'no such directory' }]);
    }
    throw error;
  }
  const playbooks: Playbook[] = [];
  const issues: Issue[] = [];
  const firstFile = new Map<string, string>();
  for (const file of files) {
    const shown = relative(root, join(dir, file)) || join(dir, file);
    let source: InventorySource;
    try {
      source = parseSourceText(await readFile(join(dir, file), 'utf8'), shown, 'ERR_PLAYBOOK_SYNTAX');
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      issues.push(...error.issues);
      continue;
    }
    const compiled = parsePlaybook(source);
    if (Array.isArray(compiled)) {
      issues.push(...compiled);
      continue;
    }
    const first = firstFile.get(compiled.id);
    if (first) issues.push({ path: '/id', source: source.locate('/id'), message: `playbook "${compiled.id}": the id is already used in ${first}` });
    firstFile.set(compiled.id, shown);
    playbooks.push(compiled);
  }
  if (issues.length) throw playbookError(issues);
  return playbooks;
}
