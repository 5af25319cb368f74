import { randomUUID } from 'node:crypto';
import type { ActionPlan } from '../connectors/contract.js';
import type { Confidence, DetectionType, Severity } from '../domain/detection.js';
import { NotFoundError, UnavailableError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { DETECTION_RESPOND_JOB, type DetectionRespondPayload } from '../detect/handoff.js';
import { escalateIncident, openOrJoinIncident, recordIncidentChange, settleIncident } from '../incidents/store.js';
import type { IdentityGraph } from '../inventory/graph-index.js';
import type { Db, Tx } from '../store/db.js';
import type { Job } from '../store/jobs.js';
import type { PerformerRegistry } from './actions/index.js';
import type { PlaybookCatalog, StoredPlaybook } from './playbooks/catalog.js';
import { selectPlaybook } from './playbooks/match.js';
import { planner, type PlanDetection, type PlannedRun, type ResponsePlan } from './planner.js';
import { planSources } from './sources.js';

/** Who opens incidents and plans responses in the audit chain. */
export const RESPONSE_ACTOR: Actor = { id: 'system:response', subject: 'system' };

export interface DryRunStep extends PlannedRun {
  /** The performer's dry run: exactly what `execute` would change now (or why it could not say). */
  diff: ActionPlan | { error: string; code: string } | null;
}

export interface DryRun extends Omit<ResponsePlan, 'runs'> {
  runs: DryRunStep[];
}

export type RespondOutcome =
  | { status: 'started'; responseId: string; incidentId: string; playbook: string; runs: number; created: boolean }
  | { status: 'exists'; responseId: string; incidentId: string }
  | { status: 'no_playbook'; detectionId: string; incidentId: string }
  | { status: 'failed'; detectionId: string; incidentId: string };

export interface ResponseDeps {
  db: Db;
  graph: IdentityGraph;
  catalog: PlaybookCatalog;
  performers: PerformerRegistry;
  /** Tells the executor runs are ready. */
  onRunsReady?: () => void;
  /** Collects what a new incident keeps (evidence, recovery checklist, blast radius); after the incident is committed. */
  onIncidentOpened?: (incidentId: string, detectionId: string, actor: Actor) => Promise<void>;
}

/**
 * Detection → response: the playbook that matches, planned against the identity graph, recorded
 * as a response with its action runs inside the incident the detection opens or joins, all in one
 * transaction; then the executor takes over. A dry run is the same plan with each step's diff,
 * touching nothing.
 */
export function responseService(deps: ResponseDeps) {
  const plannerFor = () => planner(planSources({ db: deps.db, graph: deps.graph, performers: deps.performers }));

  async function detectionFor(id: string) {
    const row = await deps.db.selectFrom('detections').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('ERR_DETECTION_NOT_FOUND', `detection "${id}" does not exist`);
    return row;
  }

  async function choose(detection: PlanDetection, playbookId?: string): Promise<StoredPlaybook | undefined> {
    if (playbookId) return deps.catalog.get(playbookId);
    const identity = detection.identityId
      ? await deps.db.selectFrom('identities').select(['kind', 'provider', 'tags', 'environment']).where('id', '=', detection.identityId).executeTakeFirst()
      : undefined;
    return selectPlaybook(await deps.catalog.active(), {
      type: detection.type, severity: detection.severity, confidence: detection.confidence,
      identity: identity ? { ...identity, tags: identity.tags ?? [] } : null,
    });
  }

  async function insertRuns(tx: Tx, plan: ResponsePlan, responseId: string, incidentId: string, requestedBy: Actor, actor: Actor): Promise<number> {
    for (const run of plan.runs) {
      const state = run.disposition === 'run' ? 'planned' : run.disposition === 'no_performer' ? 'failed' : 'cancelled';
      const errorCode = { run: null, skip: 'ERR_STEP_SKIPPED', escalate: 'ERR_STEP_ESCALATED', no_target: 'ERR_NO_TARGET', no_performer: 'ERR_NO_CONNECTOR' }[run.disposition];
      await tx.insertInto('actionRuns').values({
        id: randomUUID(), responseId, incidentId, seq: run.seq, tier: run.tier, stepId: run.stepId, action: run.action,
        performer: run.performer ?? 'none', target: JSON.stringify(run.target), targetLabel: run.target.label, targetKey: run.target.key,
        params: JSON.stringify(run.params), state, approval: run.approval ? JSON.stringify(run.approval) : null,
        idempotencyKey: `${responseId}:${run.seq}:${run.stepId}`, maxAttempts: run.maxAttempts, timeoutMs: run.timeoutMs,
        continueOnError: run.continueOnError, error: run.reason, errorCode,
        requestedBy: requestedBy.id, requestedBySubject: requestedBy.subject,
        ...(state === 'planned' ? {} : { finishedAt: new Date() }),
      }).execute();
      if (run.disposition !== 'run') {
        await recordIncidentChange(tx, incidentId, actor, {
          kind: `action.${state}`, audit: `action.${state}`, ref: `response:${responseId}`,
          summary: `Step ${run.stepId} (${run.action}) not run: ${run.reason}`, data: { stepId: run.stepId, action: run.action, disposition: run.disposition },
        });
      }
    }
    return plan.runs.filter((r) => r.disposition === 'run').length;
  }

  /**
   * A detection no playbook can answer still reaches people: its incident is opened (or joined)
   * and escalated, saying why.
   */
  async function escalateUnanswered(detectionId: string, code: 'no_playbook' | 'response_failed', reason: string): Promise<string> {
    const row = await detectionFor(detectionId);
    const incident = await deps.db.transaction().execute(async (tx) => {
      const opened = await openOrJoinIncident(tx, row, [], RESPONSE_ACTOR);
      await escalateIncident(tx, opened.id, { code, reason: `detection ${detectionId}: ${reason}` }, RESPONSE_ACTOR);
      await settleIncident(tx, opened.id, RESPONSE_ACTOR);
      return opened;
    });
    if (incident.created) await deps.onIncidentOpened?.(incident.id, detectionId, RESPONSE_ACTOR);
    return incident.id;
  }

  async function respond(detectionId: string, requestedBy: Actor): Promise<RespondOutcome> {
    const existing = await deps.db.selectFrom('responses').select(['id', 'incidentId']).where('detectionId', '=', detectionId).executeTakeFirst();
    if (existing) return { status: 'exists', responseId: existing.id, incidentId: existing.incidentId };
    const row = await detectionFor(detectionId);
    const detection = toPlanDetection(row);
    const playbook = await choose(detection);
    if (!playbook) {
      const incidentId = await escalateUnanswered(detectionId, 'no_playbook', `no playbook matches a ${row.severity} ${row.type} detection with ${row.confidence} confidence`);
      return { status: 'no_playbook', detectionId, incidentId };
    }
    const plan = await plannerFor().plan(detection, playbook);
    const actor: Actor = { id: `playbook:${playbook.id}@${playbook.version}`, subject: 'playbook' };
    const outcome = await deps.db.transaction().execute(async (tx): Promise<RespondOutcome> => {
      const again = await tx.selectFrom('responses').select(['id', 'incidentId']).where('detectionId', '=', detectionId).executeTakeFirst();
      if (again) return { status: 'exists', responseId: again.id, incidentId: again.incidentId };
      const teams = [...new Set([...(plan.identity?.owners ?? []), ...plan.runs.map((r) => r.owner).filter((o): o is string => !!o)])];
      const incident = await openOrJoinIncident(tx, { ...row, occurredAt: row.occurredAt, detectedAt: row.detectedAt }, teams, RESPONSE_ACTOR);
      const responseId = randomUUID();
      await tx.insertInto('responses').values({
        id: responseId, detectionId, incidentId: incident.id, playbookId: playbook.id, playbookVersion: playbook.version,
        identityId: row.identityId, status: 'running', requestedBy: requestedBy.id, requestedBySubject: requestedBy.subject,
      }).execute();
      await recordIncidentChange(tx, incident.id, RESPONSE_ACTOR, {
        kind: 'response.started', audit: 'response.started', ref: `response:${responseId}`,
        summary: `Playbook ${playbook.id} v${playbook.version} (${playbook.title}) planned ${plan.runs.length} step run(s) for detection ${detectionId}`,
        data: { responseId, detectionId, playbook: playbook.id, version: playbook.version, requestedBy: requestedBy.id },
      });
      const runs = await insertRuns(tx, plan, responseId, incident.id, requestedBy, actor);
      for (const escalation of plan.escalations) await escalateIncident(tx, incident.id, escalation, actor);
      if (runs === 0) await tx.updateTable('responses').set({ status: 'completed', finishedAt: new Date() }).where('id', '=', responseId).execute();
      await settleIncident(tx, incident.id, RESPONSE_ACTOR);
      return { status: 'started', responseId, incidentId: incident.id, playbook: `${playbook.id}@${playbook.version}`, runs, created: incident.created };
    });
    if (outcome.status === 'started' && outcome.runs > 0) deps.onRunsReady?.();
    // Evidence, checklist and blast radius are collected after the runs are handed over: containment does not wait for them.
    if (outcome.status === 'started' && outcome.created) await deps.onIncidentOpened?.(outcome.incidentId, detectionId, RESPONSE_ACTOR);
    return outcome;
  }

  /** The plan for a detection (stored, or described), with each step's diff read from its system now. */
  async function dryRun(input: { detectionId: string } | { detection: Omit<PlanDetection, 'id'> }, playbookId?: string): Promise<DryRun> {
    const detection = 'detectionId' in input ? toPlanDetection(await detectionFor(input.detectionId)) : { id: null, ...input.detection };
    if (detection.identityId) {
      const exists = await deps.db.selectFrom('identities').select('id').where('id', '=', detection.identityId).executeTakeFirst();
      if (!exists) throw new NotFoundError('ERR_IDENTITY_NOT_FOUND', `identity "${detection.identityId}" does not exist`);
    }
    const playbook = await choose(detection, playbookId);
    if (!playbook) throw new NotFoundError('ERR_NO_PLAYBOOK', `no playbook matches a ${detection.severity} ${detection.type} detection with ${detection.confidence} confidence${detection.identityId ? ` on ${detection.identityId}` : ''}`);
    const plan = await plannerFor().plan(detection, playbook);
    const runs: DryRunStep[] = [];
    for (const run of plan.runs) {
      if (run.disposition !== 'run' || !run.performer) {
        runs.push({ ...run, diff: null });
        continue;
      }
      try {
        const bound = await deps.performers.bind(run.performer, run.action, run.target);
        runs.push({ ...run, diff: bound ? await bound.plan(run.params) : { error: `${run.performer} cannot ${run.action}`, code: 'ERR_NO_CONNECTOR' } });
      } catch (error) {
        runs.push({ ...run, diff: { error: (error as Error).message, code: (error as { code?: string }).code ?? 'ERR_INTERNAL' } });
      }
    }
    return { ...plan, runs };
  }

  return {
    respond,
    dryRun,
    jobHandlers: {
      [DETECTION_RESPOND_JOB]: async (job: Job) => {
        const { detectionId, requestedBy } = job.payload as unknown as DetectionRespondPayload;
        try {
          return { ...(await respond(detectionId, requestedBy ?? RESPONSE_ACTOR)) };
        } catch (error) {
          // A store that is down is retried by the queue; anything else, or the last attempt, goes to people.
          if (error instanceof UnavailableError && job.attempts < job.maxAttempts) throw error;
          const incidentId = await escalateUnanswered(detectionId, 'response_failed', `the response could not be planned: ${(error as Error).message}`);
          return { status: 'failed', detectionId, incidentId, error: (error as Error).message };
        }
      },
    },
  };
}

export type ResponseService = ReturnType<typeof responseService>;

function toPlanDetection(row: { id: string; type: string; severity: string; confidence: string; title: string; identityId: string | null; credentialId: string | null }): PlanDetection {
  return {
    id: row.id, type: row.type as DetectionType, severity: row.severity as Severity, confidence: row.confidence as Confidence,
    title: row.title, identityId: row.identityId, credentialId: row.credentialId,
  };
}
