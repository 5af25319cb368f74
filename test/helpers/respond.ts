import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { EventEmitter } from 'node:events';
import { isTerminal, type ActionRunState } from '../../src/domain/action-run.js';
import type { Confidence, DetectionType, Severity } from '../../src/domain/detection.js';
import type { Actor } from '../../src/domain/roles.js';
import { storeDetections } from '../../src/detect/store.js';
import { startWorker, type Worker } from '../../src/runtime/worker.js';
import type { ActionRun } from '../../src/respond/runs.js';
import type { TestApp } from './app.js';

/** The workers a `serve` process runs (job queue and action executor), on a test app's context. */
export function startResponder(t: TestApp): { worker: Worker; stop(): Promise<void> } {
  const worker = startWorker({
    db: t.context.db, logger: t.context.logger.child({ component: 'worker' }), signal: t.context.jobSignal, pollMs: 100,
    handlers: { ...t.context.discovery.jobHandlers, ...t.context.broker.jobHandlers, ...t.context.responseJobHandlers },
  });
  t.context.executor.start();
  return {
    worker,
    async stop() {
      await worker.stop();
      await t.context.executor.stop();
    },
  };
}

/**
 * Re-checks `probe` each time one of the emitters reports progress (and at a slow fallback
 * interval for work another process does), until it returns a value; fails after `timeoutMs`
 * saying what it waited for.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, emitters: EventEmitter[], timeoutMs = 30_000): Promise<T> {
  let wake: () => void = () => undefined;
  const onEvent = () => wake();
  for (const e of emitters) {
    e.on('run', onEvent);
    e.on('finished', onEvent);
  }
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const found = await probe();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 250);
      });
    }
  } finally {
    for (const e of emitters) {
      e.off('run', onEvent);
      e.off('finished', onEvent);
    }
  }
}

/** The action runs of the incident that a detection on `identityId` opened, once it exists. */
export async function runsOf(t: TestApp, identityId: string): Promise<ActionRun[]> {
  const incident = await t.context.db.selectFrom('incidents').select('id').where(sql<boolean>`identity_ids @> array[${identityId}]::text[]`).orderBy('openedAt', 'desc').executeTakeFirst();
  if (!incident) return [];
  return (await t.context.db.selectFrom('actionRuns').selectAll().where('incidentId', '=', incident.id).orderBy('createdAt').orderBy('seq').execute()) as unknown as ActionRun[];
}

/**
 * Waits until the runs for `identityId` exist and have stopped moving: each is at an end, or one
 * is in `until` (awaiting approval, say) and every later run of its response waits behind it.
 */
export function settledRuns(t: TestApp, responder: { worker: Worker }, identityId: string, until: ActionRunState[] = []): Promise<ActionRun[]> {
  return waitFor(`the action runs on ${identityId} to settle`, async () => {
    // Responses still being planned or collecting their incident's evidence are not settled yet.
    const busy = await t.context.db.selectFrom('jobs').select('id').where('kind', '=', 'detection.respond').where('status', 'in', ['queued', 'running']).executeTakeFirst();
    if (busy) return undefined;
    const runs = await runsOf(t, identityId);
    const stopped = runs.every((r) => isTerminal(r.state) || until.includes(r.state)
      || (r.state === 'planned' && runs.some((w) => w.responseId === r.responseId && w.seq < r.seq && until.includes(w.state))));
    return runs.length > 0 && stopped ? runs : undefined;
  }, [t.context.executor.events, responder.worker.events]);
}

/** A gitleaks finding (as `gitleaks detect --report-format json` writes it) of a secret, unique per call. */
export function leakedInGitleaks(secret: string, file = 'deploy/app/.env.production'): Record<string, unknown>[] {
  const commit = randomUUID().replace(/-/g, '').slice(0, 40).padEnd(40, '0');
  return [{
    Description: 'Generic Password', StartLine: 3, EndLine: 3, StartColumn: 13, EndColumn: 13 + secret.length,
    Match: `DB_PASSWORD=${secret}`, Secret: secret, File: file, SymlinkFile: '', Commit: commit, Entropy: 4.1,
    Author: 'Dev', Email: 'dev@acme.example', Date: new Date(Date.now() - 60_000).toISOString(), Message: 'add env', Tags: [],
    RuleID: 'generic-password', Fingerprint: `${commit}:${file}:generic-password:3`,
  }];
}

/** Stores a detection as the detection engine would (with its `detection.respond` job) and wakes the worker. */
export async function raiseDetection(t: TestApp, fields: {
  type: DetectionType; severity: Severity; confidence: Confidence; identityId: string | null; credentialId?: string; requestedBy?: Actor;
}): Promise<string> {
  const [id] = await t.context.db.transaction().execute((tx) => storeDetections(tx, [{
    type: fields.type, rule: `builtin:${fields.type}`, severity: fields.severity, confidence: fields.confidence,
    identityId: fields.identityId, credentialId: fields.credentialId, title: `${fields.type} on ${fields.identityId ?? 'nobody'}`,
    summary: 'raised by a test', key: randomUUID(), frameworks: { owaspNhi: [], nistCsf: [] }, attributes: {},
    eventId: randomUUID(), occurredAt: new Date(),
  }], fields.requestedBy ?? { id: 'token:test-sender', subject: 'sender-user' }));
  t.context.jobSignal.emit('queued');
  return id!;
}

/** The runs of the response to one detection, once each has stopped moving (see `settledRuns`). */
export function settledResponse(t: TestApp, responder: { worker: Worker }, detectionId: string, until: ActionRunState[] = []): Promise<ActionRun[]> {
  return waitFor(`the response to detection ${detectionId} to settle`, async () => {
    // The job is over once the incident has collected what it keeps (evidence, checklist, blast radius).
    const job = await t.context.db.selectFrom('jobs').select('status').where('kind', '=', 'detection.respond')
      .where(sql<boolean>`payload->>'detectionId' = ${detectionId}`).executeTakeFirst();
    if (job?.status !== 'succeeded') return undefined;
    const response = await t.context.db.selectFrom('responses').select('id').where('detectionId', '=', detectionId).executeTakeFirst();
    if (!response) return undefined;
    const runs = (await t.context.db.selectFrom('actionRuns').selectAll().where('responseId', '=', response.id).orderBy('seq').execute()) as unknown as ActionRun[];
    const stopped = runs.every((r) => isTerminal(r.state) || until.includes(r.state) || (r.state === 'planned' && runs.some((w) => w.seq < r.seq && until.includes(w.state))));
    return stopped ? runs : undefined;
  }, [t.context.executor.events, responder.worker.events]);
}
