import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { isTerminal, type ActionRunState } from '../domain/action-run.js';
import type { Actor } from '../domain/roles.js';
import type { InventorySource } from '../inventory/source.js';
import { overallMetrics } from '../incidents/metrics.js';
import { verifyEvidence } from '../incidents/evidence.js';
import type { Server } from '../runtime/serve.js';
import type { PostgresTarget } from './postgres.js';

/**
 * The demo's scripted attack (SPEC §3.5): a leaked database password, the old password replayed
 * after rotation, and an AI agent acting with privileges in the middle of the night. Each act
 * goes in through the API like any signal; what Cordon did is read back from the store.
 */

export const DEMO_ACTOR: Actor = { id: 'cli:demo', subject: 'demo' };
/** The leaked value: the example inventory's payments API database password (reused by the reconciler). */
export const LEAKED_PASSWORD = 'demo-Pg-payments-api-7Q2vX9kLm4';

export interface DemoSummary {
  detections: { type: string; count: number }[];
  incidents: { id: string; title: string; status: string; escalated: boolean; evidenceOk: boolean; evidenceItems: number }[];
  actions: Record<string, number>;
  approvals: number;
  timeToContainP50Ms: number | null;
  exposureWindowP50Ms: number | null;
}

interface DemoContext {
  server: Server;
  url: string;
  tokens: { sender: string; approver: string };
  simulated: boolean;
  out(line: string): void;
}

/** Points the example inventory's PostgreSQL connector at the simulated system (labelled) when the real one cannot be used. */
export function simulatePostgres(sources: InventorySource[]): void {
  for (const source of sources) {
    const connectors = (source.document as { connectors?: { id: string; type: string; params: unknown }[] }).connectors ?? [];
    for (const connector of connectors) {
      if (connector.type === 'postgres') {
        connector.type = 'simulated';
        connector.params = { system: 'postgres', sessionsPerAccount: 1 };
      }
    }
  }
}

async function api(ctx: DemoContext, token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${ctx.url}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) as Record<string, unknown> : {};
}

/** Waits until every response is planned and every run is over or waiting for a person. */
async function settled(ctx: DemoContext): Promise<void> {
  const { db, executor } = ctx.server.context;
  const workerEvents = ctx.server.worker!.events;
  let wake = () => undefined as void;
  const onProgress = () => wake();
  executor.events.on('run', onProgress);
  workerEvents.on('finished', onProgress);
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      const busyJobs = await db.selectFrom('jobs').select('id').where('kind', 'in', ['detection.respond']).where('status', 'in', ['queued', 'running']).executeTakeFirst();
      const runs = await db.selectFrom('actionRuns').select(['state', 'responseId', 'seq']).execute();
      const moving = runs.some((r) => !isTerminal(r.state as ActionRunState) && r.state !== 'awaiting_approval'
        && !(r.state === 'planned' && runs.some((w) => w.responseId === r.responseId && w.seq < r.seq && w.state === 'awaiting_approval')));
      if (!busyJobs && !moving) return;
      if (Date.now() > deadline) throw new Error('the demo waited two minutes for Cordon to finish responding');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 500);
      });
    }
  } finally {
    executor.events.off('run', onProgress);
    workerEvents.off('finished', onProgress);
  }
}

const ICON: Record<string, string> = { verified: '✔', failed: '✘', verification_failed: '✘', awaiting_approval: '⏸', denied: '⊘', cancelled: '–' };

/** The detections not in `before`, and the runs they caused, as lines. */
async function narrate(ctx: DemoContext, before: Set<string>): Promise<void> {
  const { db } = ctx.server.context;
  const detections = (await db.selectFrom('detections').select(['id', 'type', 'severity', 'confidence', 'identityId', 'title']).orderBy('detectedAt').execute())
    .filter((d) => !before.has(d.id));
  if (detections.length === 0) ctx.out('  nothing detected');
  for (const d of detections) {
    ctx.out(`  detected  ${d.type} (${d.severity}, ${d.confidence}) on ${d.identityId ?? 'no known identity'}: ${d.title}`);
    const response = await db.selectFrom('responses').select(['id', 'playbookId', 'playbookVersion', 'incidentId']).where('detectionId', '=', d.id).executeTakeFirst();
    if (!response) continue;
    ctx.out(`    playbook ${response.playbookId} v${response.playbookVersion} → incident ${response.incidentId}`);
    const runs = await db.selectFrom('actionRuns').select(['id', 'stepId', 'action', 'targetLabel', 'state', 'performer', 'verification', 'approval', 'error'])
      .where('responseId', '=', response.id).orderBy('seq').execute();
    const approvals = runs.length ? await db.selectFrom('actionApprovals').select(['runId', 'subject', 'decision']).where('runId', 'in', runs.map((r) => r.id)).execute() : [];
    for (const run of runs) {
      const label = ctx.simulated && run.performer.startsWith('connector:pg') ? ' [SIMULATED postgres]' : '';
      const decided = approvals.filter((a) => a.runId === run.id).map((a) => `${a.decision === 'approve' ? 'approved' : 'denied'} by ${a.subject}`);
      const proof = (run.verification as { checks?: { name: string }[] } | null)?.checks?.map((c) => c.name).join(', ');
      const why = run.state === 'awaiting_approval' ? `awaits approval: ${((run.approval as { reasons?: string[] } | null)?.reasons ?? []).join('; ')}`
        : run.state === 'verified' ? `verified (${proof})` : `${run.state}${run.error ? `: ${run.error}` : ''}`;
      const waited = run.approval ? ` — needed approval (${((run.approval as { reasons?: string[] }).reasons ?? []).join('; ')})${decided.length ? `, ${decided.join(', ')}` : ''}` : '';
      ctx.out(`    ${ICON[run.state] ?? '·'} ${run.action} on ${run.targetLabel}${label}: ${why}${run.state === 'awaiting_approval' ? '' : waited}`);
    }
  }
}

/** The approver approves every step waiting for approval, exactly the diff planned, then Cordon carries on. */
async function approveWaiting(ctx: DemoContext): Promise<number> {
  const { items } = await api(ctx, ctx.tokens.approver, 'GET', '/v1/actions?state=awaiting_approval') as { items: { id: string; action: string; targetLabel: string; planDigest: string; plan: { changes: { op: string; object: string }[] } }[] };
  for (const run of items) {
    await api(ctx, ctx.tokens.approver, 'POST', `/v1/actions/${run.id}/approve`, { planDigest: run.planDigest, reason: 'demo: reviewed the diff' });
    ctx.out(`  dana (approver) reviews and approves: ${run.action} on ${run.targetLabel} — ${run.plan.changes.map((c) => `${c.op} ${c.object}`).join('; ') || 'no change'}`);
  }
  return items.length;
}

async function act(ctx: DemoContext, title: string, send: () => Promise<void>): Promise<void> {
  ctx.out(`\n▶ ${title}`);
  const before = new Set((await ctx.server.context.db.selectFrom('detections').select('id').execute()).map((d) => d.id));
  await send();
  await settled(ctx);
  if (await approveWaiting(ctx)) await settled(ctx);
  await narrate(ctx, before);
}

function gitleaksReport(secret: string): Record<string, unknown>[] {
  const commit = randomUUID().replace(/-/g, '').padEnd(40, '0').slice(0, 40);
  const file = 'services/payments/.env.production';
  return [{
    Description: 'Generic Password', StartLine: 4, EndLine: 4, StartColumn: 13, EndColumn: 13 + secret.length, Match: `DB_PASSWORD=${secret}`, Secret: secret,
    File: file, SymlinkFile: '', Commit: commit, Entropy: 4.2, Author: 'Pat Developer', Email: 'pat@acme.example',
    Date: new Date(Date.now() - 45 * 60_000).toISOString(), Message: 'debug prod payments', Tags: [], RuleID: 'generic-password',
    Fingerprint: `${commit}:${file}:generic-password:4`,
  }];
}

/** The most recent 03:14 in London: outside every agent's declared working hours. */
function lastNightInLondon(now = new Date()): Date {
  const at = new Date(now);
  at.setUTCHours(2, 14, 0, 0);
  if (at > now) at.setUTCDate(at.getUTCDate() - 1);
  return at;
}

export async function playScenario(ctx: DemoContext, postgres: PostgresTarget | undefined): Promise<DemoSummary> {
  const session = postgres ? await postgres.openSession('cordon_demo_payments_api', LEAKED_PASSWORD) : undefined;
  try {
    await act(ctx, 'Act 1 — the payments database password is pushed to a public repository (gitleaks finds it)', async () => {
      await api(ctx, ctx.tokens.sender, 'POST', '/v1/events?format=gitleaks', gitleaksReport(LEAKED_PASSWORD));
    });
    if (postgres) {
      const old = await postgres.login('cordon_demo_payments_api', LEAKED_PASSWORD);
      ctx.out(`  checked on PostgreSQL: the leaked password now ${old === 'ok' ? 'STILL WORKS' : `is refused (${old})`}`);
    }
    await act(ctx, 'Act 2 — someone replays the leaked (now rotated) password against the payments database', async () => {
      await api(ctx, ctx.tokens.sender, 'POST', '/v1/events?format=native', [{
        id: `demo-replay-${randomUUID()}`, type: 'auth.login', time: new Date().toISOString(), source: 'postgres-audit',
        identity: { secret: LEAKED_PASSWORD }, sourceIp: '203.0.113.7', asn: 64500, geo: 'NL', userAgent: 'psql/16', action: 'login',
        target: 'postgres://db.prod.internal/payments', outcome: 'failure',
      }]);
    });
    await act(ctx, 'Act 3 — the refunds agent issues a refund at 3 a.m., outside its declared schedule', async () => {
      await api(ctx, ctx.tokens.sender, 'POST', '/v1/events?format=native', [{
        id: `demo-agent-${randomUUID()}`, type: 'api.call', time: lastNightInLondon().toISOString(), source: 'agent-gateway',
        identity: { id: 'agent-refunds' }, sourceIp: '10.20.0.14', action: 'refunds.create', target: 'api:refunds', outcome: 'success', privileged: true,
      }]);
    });
  } finally {
    await session?.close();
  }
  return summarize(ctx);
}

async function summarize(ctx: DemoContext): Promise<DemoSummary> {
  const { db } = ctx.server.context;
  const [detections, incidents, runs, approvals, metrics] = await Promise.all([
    db.selectFrom('detections').select(['type', sql<string>`count(*)`.as('n')]).groupBy('type').orderBy('type').execute(),
    db.selectFrom('incidents').select(['id', 'title', 'status', 'escalated']).orderBy('openedAt').execute(),
    db.selectFrom('actionRuns').select(['state', sql<string>`count(*)`.as('n')]).groupBy('state').execute(),
    db.selectFrom('actionApprovals').select(sql<string>`count(*)`.as('n')).where('decision', '=', 'approve').executeTakeFirstOrThrow(),
    overallMetrics(db),
  ]);
  const withEvidence = [];
  for (const incident of incidents) {
    const evidence = await verifyEvidence(db, incident.id);
    withEvidence.push({ ...incident, evidenceOk: evidence.ok, evidenceItems: evidence.checked });
  }
  return {
    detections: detections.map((d) => ({ type: d.type, count: Number(d.n) })),
    incidents: withEvidence,
    actions: Object.fromEntries(runs.map((r) => [r.state, Number(r.n)])),
    approvals: Number(approvals.n),
    timeToContainP50Ms: metrics.timeToContain.p50Ms,
    exposureWindowP50Ms: metrics.exposureWindow.p50Ms,
  };
}
