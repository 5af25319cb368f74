import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AuthorizationDecision, Authorizer } from '../domain/authorization.js';
import { CordonError, InvalidInputError, type Issue } from '../domain/errors.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import type { Logger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import type { DecisionLog } from './decision-log.js';
import { DecisionEngine, type EngineDecision, type EngineMode } from './engine.js';
import type { IdentityDirectory, RiskSource } from './facts.js';
import { readPolicyDir } from './files.js';
import { bundleDigest, loadBundle, type BundleInput, type PolicyBundle } from './load.js';
import { identityIds, prepareRequest, type PolicyRequest, type RequestFacts } from './prepare.js';
import { authorizeRequest } from './request.js';
import { getVersion, latestVersion, latestVersionNumber, saveVersion, type PolicyVersion, type VersionOrigin } from './versions.js';

/**
 * The policy decision point: serves the newest policy version, loads new ones, and decides
 * requests. A new version is validated and its engine built off to the side, then stored and
 * swapped in with one assignment; a request keeps the engine it started with, so nothing in
 * flight is dropped or decided half on one version and half on the other. A version that does
 * not validate changes nothing.
 */

export interface PolicyDecision extends AuthorizationDecision {
  decisionId: string;
  policyVersion: number;
}

export type BatchResult =
  | ({ index: number } & PolicyDecision)
  | { index: number; error: { code: string; message: string; errors: Issue[] } };

export interface LoadResult {
  version: number;
  digest: string;
  policyIds: string[];
  warnings: Issue[];
  /** False when the documents were the same as the version already serving. */
  changed: boolean;
}

interface ActiveSet {
  version: number;
  bundle: PolicyBundle;
  engine: DecisionEngine;
}

export interface PolicyServiceDeps {
  db: Db;
  risk: RiskSource;
  directory: IdentityDirectory;
  decisions: Pick<DecisionLog, 'record'>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The policy directory loaded as a new version on start when its files changed. */
  policyDir: string;
  clock?: () => Date;
  mode?: EngineMode;
  /** How often (ms) a serving process looks for a version another process stored. */
  refreshMs?: number;
}

export const BATCH_MAX = 100;

export function policyService(deps: PolicyServiceDeps) {
  const clock = deps.clock ?? (() => new Date());
  const refreshMs = deps.refreshMs ?? 2000;
  let active: ActiveSet | undefined;
  let starting: Promise<ActiveSet> | undefined;
  let refreshing: Promise<void> | undefined;
  let lastRefresh = Date.now();

  function build(version: number, bundle: PolicyBundle): ActiveSet {
    return { version, bundle, engine: new DecisionEngine(bundle.policies, bundle.entities, deps.mode) };
  }

  /** Serves `next` unless a newer version is already serving. */
  function swapIn(next: ActiveSet): ActiveSet {
    if (!active || next.version > active.version) active = next;
    return active;
  }

  async function ready(): Promise<ActiveSet> {
    if (active) {
      refreshIfDue();
      return active;
    }
    starting ??= start().finally(() => (starting = undefined));
    return starting;
  }

  async function start(): Promise<ActiveSet> {
    const latest = await latestVersion(deps.db);
    let files: BundleInput;
    try {
      files = await readPolicyDir(deps.policyDir);
    } catch (error) {
      if (!latest) throw error;
      deps.logger.warn({ err: error }, 'the policy directory cannot be read; serving the stored policy version');
      return swapIn(build(latest.version, loadBundle(latest.input)));
    }
    const lastFromFiles = latest?.origin === 'files' ? latest : await latestVersion(deps.db, 'files');
    if (latest && lastFromFiles?.digest === bundleDigest(files)) return swapIn(build(latest.version, loadBundle(latest.input)));
    try {
      await install(files, SYSTEM_ACTOR, 'files', `policy directory ${deps.policyDir}`);
      return active!;
    } catch (error) {
      if (!latest || !(error instanceof InvalidInputError)) throw error;
      deps.logger.error({ err: error, issues: error.issues }, 'the policy files do not validate; serving the stored policy version');
      return swapIn(build(latest.version, loadBundle(latest.input)));
    }
  }

  async function install(input: BundleInput, actor: Actor, origin: VersionOrigin, comment?: string): Promise<LoadResult> {
    const bundle = loadBundle(input);
    const policyIds = bundle.policies.map((p) => p.id);
    if (active && active.bundle.digest === bundle.digest) {
      return { version: active.version, digest: bundle.digest, policyIds, warnings: bundle.warnings, changed: false };
    }
    const next = build(0, bundle);
    const saved = await saveVersion(deps.db, actor, { input, digest: bundle.digest, origin, policyIds, comment });
    swapIn({ ...next, version: saved.version });
    deps.logger.info({ version: saved.version, origin, policies: policyIds.length }, 'policy version loaded');
    return { version: saved.version, digest: bundle.digest, policyIds, warnings: bundle.warnings, changed: true };
  }

  /** Serves the newest stored version if it is newer than the one serving; returns the serving number. */
  async function refresh(): Promise<number> {
    const newest = await latestVersionNumber(deps.db);
    if (active && newest > active.version) {
      const version = await getVersion(deps.db, newest);
      if (version) swapIn(build(version.version, loadBundle(version.input)));
    }
    return active?.version ?? 0;
  }

  /** Looks, now and then and off the request path, for a version another process stored. */
  function refreshIfDue(): void {
    if (refreshing || Date.now() - lastRefresh < refreshMs) return;
    lastRefresh = Date.now();
    refreshing = refresh().then(() => undefined, (error) => deps.logger.warn({ err: error }, 'cannot look for a newer policy version'))
      .finally(() => (refreshing = undefined));
  }

  async function lookUp(requests: PolicyRequest[]): Promise<RequestFacts> {
    const identities = await deps.directory.identitiesOf([...new Set(requests.flatMap(identityIds))]);
    const risk = await deps.risk.riskOf([...new Set(requests.map((r) => r.principal.id))], identities);
    return { identities, risk };
  }

  function decideOn(set: ActiveSet, request: PolicyRequest, facts: RequestFacts, caller: string, started: number): PolicyDecision {
    const prepared = prepareRequest(set.bundle.schema, request, facts, clock());
    const outcome = set.engine.decide(prepared);
    const decision = toDecision(outcome, set.version);
    if (outcome.failure) deps.logger.warn({ failure: outcome.failure }, 'Cedar refused a prepared request');
    deps.decisions.record({
      id: decision.decisionId,
      at: clock(),
      policyVersion: set.version,
      principal: request.principal,
      action: request.action.id,
      resource: request.resource,
      decision: decision.decision,
      reasons: decision.reasons,
      errors: decision.errors,
      taskId: request.task?.id,
      caller,
      contextKeys: Object.keys(request.context ?? {}),
      durationUs: Math.round((performance.now() - started) * 1000),
    });
    return decision;
  }

  const service = {
    ready: async () => {
      await ready();
    },

    /** Decides one request; throws `InvalidInputError` naming the fields of a bad one. */
    async authorize(request: PolicyRequest, caller: string = SYSTEM_ACTOR.id): Promise<PolicyDecision> {
      const started = performance.now();
      authorizeRequest.parse(request, 'ERR_AUTHORIZE_INVALID', 'the authorization request');
      // Held across the inventory look-up: the request finishes on this version even if another is swapped in meanwhile.
      const set = await ready();
      return decideOn(set, request, await lookUp([request]), caller, started);
    },

    /** Decides each request on its own: a bad one gets its error, the others their decisions. */
    async authorizeBatch(requests: unknown[], caller: string = SYSTEM_ACTOR.id): Promise<BatchResult[]> {
      const started = performance.now();
      if (requests.length > BATCH_MAX) {
        throw new InvalidInputError('ERR_AUTHORIZE_BATCH', `a batch holds at most ${BATCH_MAX} requests`, [{ path: '/requests', message: `at most ${BATCH_MAX} items` }]);
      }
      const set = await ready();
      const valid = requests.map((r) => (authorizeRequest.check(r) ? r : undefined));
      const facts = await lookUp(valid.filter((r): r is PolicyRequest => r !== undefined));
      return requests.map((request, index): BatchResult => {
        const shaped = valid[index];
        if (!shaped) {
          const errors = authorizeRequest.issues(request);
          return { index, error: { code: 'ERR_AUTHORIZE_INVALID', message: `request ${index} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors } };
        }
        try {
          return { index, ...decideOn(set, shaped, facts, caller, started) };
        } catch (error) {
          if (!(error instanceof CordonError)) throw error;
          return { index, error: { code: error.code, message: error.message, errors: error instanceof InvalidInputError ? error.issues : [] } };
        }
      });
    },

    /** Validates documents, stores them as the next version and serves it; the old one serves until then. */
    async load(input: BundleInput, actor: Actor, comment?: string): Promise<LoadResult> {
      await ready();
      return install(input, actor, 'api', comment);
    },

    /** Loads the policy directory as a new version (unless it is what is serving). */
    async loadFiles(actor: Actor): Promise<LoadResult> {
      await ready();
      return install(await readPolicyDir(deps.policyDir), actor, 'files', `policy directory ${deps.policyDir}`);
    },

    /** What a load would say, without storing or serving anything. */
    check(input: BundleInput): { policyIds: string[]; warnings: Issue[]; digest: string } {
      const bundle = loadBundle(input);
      return { policyIds: bundle.policies.map((p) => p.id), warnings: bundle.warnings, digest: bundle.digest };
    },

    /** The serving version: its number and policies (with where each came from). */
    async current(): Promise<{ version: number; digest: string; policies: { id: string; source: string; text: string }[]; input: BundleInput }> {
      const set = await ready();
      const stored: PolicyVersion | undefined = await getVersion(deps.db, set.version);
      return {
        version: set.version,
        digest: set.bundle.digest,
        policies: set.bundle.policies.map(({ id, source, text }) => ({ id, source, text })),
        input: stored?.input ?? { schema: { name: set.bundle.schema.name, text: set.bundle.schema.text }, policies: [] },
      };
    },

    refresh,
  } satisfies Authorizer & Record<string, unknown>;
  return service;
}

export type PolicyService = ReturnType<typeof policyService>;

function toDecision(outcome: EngineDecision, version: number): PolicyDecision {
  return {
    decision: outcome.decision,
    reasons: outcome.reasons,
    errors: [
      ...outcome.errors.map((e) => `${e.policyId}: ${e.message}`),
      ...(outcome.failure ?? []).map((message) => `request: ${message}`),
    ],
    decisionId: randomUUID(),
    policyVersion: version,
  };
}
