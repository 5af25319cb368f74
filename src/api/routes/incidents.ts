import Type from 'typebox';
import { SEVERITIES } from '../../domain/detection.js';
import { INCIDENT_STATUSES, TLP_LABELS } from '../../domain/incident.js';
import { INCIDENT_STATUSES as STATUSES, TASK_STATUSES } from '../../domain/incident.js';
import { READERS, RESPONDERS, type ApiRole } from '../../domain/roles.js';
import { listEvidence, verifyEvidenceChain } from '../../incidents/evidence.js';
import { incidentMetrics, overallMetrics } from '../../incidents/metrics.js';
import { incidentDetail, listIncidents } from '../../incidents/queries.js';
import { incidentReport, reportMarkdown } from '../../incidents/report.js';
import { incidentTimeline } from '../../incidents/timeline.js';
import { actorOf } from '../auth.js';
import type { ActionRun } from '../../respond/runs.js';
import { ActionRunView, actionRunView } from './actions.js';
import { DateTime, IdParam, Json, Limit, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

export const Incident = Type.Object({
  id: Type.String(),
  title: Type.String(),
  type: Type.String({ description: 'The detection type that opened it, or manual' }),
  summary: Type.String(),
  status: Type.Enum(INCIDENT_STATUSES),
  severity: Type.Enum(SEVERITIES),
  identityIds: Type.Array(Type.String()),
  assignee: Type.Union([Type.String(), Type.Null()]),
  teams: Type.Array(Type.String()),
  tlp: Type.Enum(TLP_LABELS),
  escalated: Type.Boolean(),
  escalations: Type.Array(Type.Object({ at: Type.String(), code: Type.String(), reason: Type.String(), runId: Type.Optional(Type.String()) })),
  openedBy: Type.String(),
  openedAt: DateTime,
  firstSeenAt: NullableDateTime,
  detectedAt: NullableDateTime,
  containedAt: NullableDateTime,
  closedAt: NullableDateTime,
  closeReason: Type.Union([Type.String(), Type.Null()]),
  updatedAt: DateTime,
});

const TimelineEntry = Type.Object({
  at: DateTime, kind: Type.String(), actor: Type.String(), summary: Type.String(),
  ref: Type.Union([Type.String(), Type.Null()]), data: Json,
});

const Metrics = Type.Object({
  firstSeenAt: NullableDateTime, detectedAt: NullableDateTime, containedAt: NullableDateTime, invalidatedAt: NullableDateTime,
  timeToDetectMs: Type.Union([Type.Number(), Type.Null()]), timeToContainMs: Type.Union([Type.Number(), Type.Null()]), exposureWindowMs: Type.Union([Type.Number(), Type.Null()]),
});

const EvidenceItem = Type.Object({
  seq: Type.Integer(), id: Type.String(), kind: Type.String(), title: Type.String(), ref: Type.Union([Type.String(), Type.Null()]),
  contentDigest: Type.String(), prevHash: Type.String(), hash: Type.String(), collectedBy: Type.String(), collectedAt: DateTime,
});

const EvidenceVerification = Type.Object({
  ok: Type.Boolean(), checked: Type.Integer(),
  firstBad: Type.Optional(Type.Object({ id: Type.String(), seq: Type.Integer(), reason: Type.String() })),
});

const IncidentDetail = Type.Object({
  ...Incident.properties,
  metrics: Metrics,
  blastRadius: Type.Union([Json, Type.Null()], { description: 'Snapshot of the first identity\'s blast radius, with "safe to revoke?"' }),
  blastRadiusAt: NullableDateTime,
  detections: Type.Array(Type.Object({
    id: Type.String(), type: Type.String(), rule: Type.String(), severity: Type.String(), confidence: Type.String(), title: Type.String(),
    summary: Type.String(), identityId: Type.Union([Type.String(), Type.Null()]), credentialId: Type.Union([Type.String(), Type.Null()]),
    frameworks: Json, occurredAt: DateTime, detectedAt: DateTime, evidenceEventIds: Type.Array(Type.String()), linkedAt: DateTime,
  })),
  responses: Type.Array(Type.Object({
    id: Type.String(), detectionId: Type.Union([Type.String(), Type.Null()]), playbookId: Type.String(), playbookVersion: Type.Integer(),
    status: Type.String(), requestedBy: Type.String(), createdAt: DateTime, finishedAt: NullableDateTime,
  })),
  actions: Type.Array(ActionRunView),
  tasks: Type.Array(Type.Object({
    id: Type.String(), team: Type.Union([Type.String(), Type.Null()]), title: Type.String(), detail: Type.String(), kind: Type.String(),
    status: Type.String(), source: Type.String(), createdAt: DateTime, updatedAt: DateTime, doneBy: Type.Union([Type.String(), Type.Null()]), doneAt: NullableDateTime,
  })),
  timeline: Type.Array(TimelineEntry),
  evidence: Type.Array(EvidenceItem),
});

const Distribution = Type.Object({
  count: Type.Integer(), p50Ms: Type.Union([Type.Number(), Type.Null()]), p90Ms: Type.Union([Type.Number(), Type.Null()]), maxMs: Type.Union([Type.Number(), Type.Null()]),
});
const Counts = Type.Record(Type.String(), Type.Integer());
const OverallMetrics = Type.Object({
  incidents: Type.Object({ total: Type.Integer(), open: Type.Integer(), escalated: Type.Integer(), byStatus: Counts, openBySeverity: Counts }),
  actionsAwaitingApproval: Type.Integer(),
  timeToDetect: Distribution,
  timeToContain: Distribution,
  exposureWindow: Distribution,
  series: Type.Array(Type.Object({
    incidentId: Type.String(), openedAt: DateTime, severity: Type.String(),
    timeToDetectMs: Type.Union([Type.Number(), Type.Null()]), timeToContainMs: Type.Union([Type.Number(), Type.Null()]), exposureWindowMs: Type.Union([Type.Number(), Type.Null()]),
  })),
});

const WRITERS: readonly ApiRole[] = ['responder', 'approver', 'admin'];
const Ok = Type.Object({ ok: Type.Literal(true) });

export async function incidentRoutes(app: Api): Promise<void> {
  app.get('/v1/incidents', {
    config: { roles: READERS },
    schema: {
      summary: 'Incidents, newest first',
      tags: ['incidents'],
      querystring: Type.Object({
        status: Type.Optional(Type.Enum(INCIDENT_STATUSES)),
        open: Type.Optional(Type.Boolean({ description: 'Only incidents that are not closed' })),
        severity: Type.Optional(Type.Enum(SEVERITIES, { description: 'At least this severity' })),
        identity: Type.Optional(Type.String({ maxLength: 200 })),
        team: Type.Optional(Type.String({ maxLength: 200 })),
        escalated: Type.Optional(Type.Boolean()),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
        limit: Limit(500, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(Incident), nextCursor: Type.Union([Type.String(), Type.Null()]) })),
    },
  }, async (request) => {
    const { cursor, ...filter } = request.query;
    return listIncidents(app.cordon.db, { ...filter, before: cursor });
  });

  app.get('/v1/incidents/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'An incident with its detections, action runs (diffs, approvals, proofs), tasks, evidence and timeline',
      tags: ['incidents'], params: IdParam, response: responses(200, IncidentDetail, [404]),
    },
  }, async (request) => {
    const detail = await incidentDetail(app.cordon.db, request.params.id);
    return {
      ...detail,
      metrics: incidentMetrics(detail, detail.actions),
      timeline: await incidentTimeline(app.cordon.db, detail.id),
      actions: detail.actions.map((run) => actionRunView(run as unknown as ActionRun, detail.approvals.filter((a) => a.runId === run.id))),
    };
  });

  app.post('/v1/incidents', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Open an incident by hand', tags: ['incidents'],
      body: Type.Object({
        title: Type.String({ minLength: 1, maxLength: 300 }),
        severity: Type.Enum(SEVERITIES),
        summary: Type.Optional(Type.String({ maxLength: 10_000 })),
        identityIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, uniqueItems: true })),
        detectionIds: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true })),
        assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        teams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20, uniqueItems: true })),
        tlp: Type.Optional(Type.Enum(TLP_LABELS)),
      }, { additionalProperties: false }),
      response: responses(201, Type.Object({ id: Type.String() }), [404, 409]),
    },
  }, async (request, reply) => {
    reply.code(201);
    return { id: await app.cordon.incidents.create(request.body, actorOf(request)) };
  });

  app.patch('/v1/incidents/:id', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Change an incident\'s title, severity, summary, assignee, teams or TLP', tags: ['incidents'], params: IdParam,
      body: Type.Object({
        title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
        severity: Type.Optional(Type.Enum(SEVERITIES)),
        summary: Type.Optional(Type.String({ maxLength: 10_000 })),
        assignee: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
        teams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20, uniqueItems: true })),
        tlp: Type.Optional(Type.Enum(TLP_LABELS)),
      }, { additionalProperties: false, minProperties: 1 }),
      response: responses(200, Ok, [404]),
    },
  }, async (request) => {
    await app.cordon.incidents.update(request.params.id, request.body, actorOf(request));
    return { ok: true as const };
  });

  app.post('/v1/incidents/:id/status', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Move the incident (contained only follows verified containment)',
      description: 'Closing needs a reason. An incident with a step awaiting approval, under way, or whose proof failed cannot be closed unless an admin sets `force` with a reason of at least 10 characters; its pending steps are then cancelled.',
      tags: ['incidents'], params: IdParam,
      body: Type.Object({
        status: Type.Enum(STATUSES),
        reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
        force: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      response: responses(200, Ok, [404, 409]),
    },
  }, async (request) => {
    await app.cordon.incidents.setStatus(request.params.id, request.body, actorOf(request));
    return { ok: true as const };
  });

  app.post('/v1/incidents/:id/notes', {
    config: { roles: WRITERS },
    schema: {
      summary: 'Add a note (kept as evidence and on the timeline)', tags: ['incidents'], params: IdParam,
      body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 20_000 }) }, { additionalProperties: false }),
      response: responses(201, Type.Object({ id: Type.String() }), [404]),
    },
  }, async (request, reply) => {
    reply.code(201);
    return { id: await app.cordon.incidents.addNote(request.params.id, request.body.text, actorOf(request)) };
  });

  app.post('/v1/incidents/:id/detections', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Link a detection to the incident', tags: ['incidents'], params: IdParam,
      body: Type.Object({ detectionId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
      response: responses(200, Ok, [404, 409]),
    },
  }, async (request) => {
    await app.cordon.incidents.linkDetection(request.params.id, request.body.detectionId, actorOf(request));
    return { ok: true as const };
  });

  app.post('/v1/incidents/:id/blast-radius', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Take the blast-radius snapshot again (kept as evidence), with "safe to revoke?"', tags: ['incidents'], params: IdParam,
      response: responses(200, Type.Object({ blastRadius: Type.Union([Json, Type.Null()]) }), [404]),
    },
  }, async (request) => ({ blastRadius: await app.cordon.incidents.snapshotBlastRadius(request.params.id, actorOf(request)) }));

  app.patch('/v1/incidents/:id/tasks/:taskId', {
    config: { roles: WRITERS },
    schema: {
      summary: 'Mark a task done, cancelled or open again', tags: ['incidents'],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), taskId: Type.String({ minLength: 1, maxLength: 300 }) }),
      body: Type.Object({ status: Type.Enum(TASK_STATUSES) }, { additionalProperties: false }),
      response: responses(200, Ok, [404]),
    },
  }, async (request) => {
    await app.cordon.incidents.updateTask(request.params.id, request.params.taskId, request.body.status, actorOf(request));
    return { ok: true as const };
  });

  app.get('/v1/incidents/:id/timeline', {
    config: { roles: READERS },
    schema: { summary: 'Everything that happened, in time order, with who did it', tags: ['incidents'], params: IdParam, response: responses(200, Type.Object({ items: Type.Array(TimelineEntry) }), [404]) },
  }, async (request) => {
    await incidentDetail(app.cordon.db, request.params.id);
    return { items: await incidentTimeline(app.cordon.db, request.params.id) };
  });

  app.get('/v1/incidents/:id/evidence', {
    config: { roles: READERS },
    schema: {
      summary: 'The evidence chain with contents and hashes, for a third party to check (docs/incidents.md)', tags: ['incidents'], params: IdParam,
      response: responses(200, Type.Object({
        incidentId: Type.String(), algorithm: Type.String(), verification: EvidenceVerification,
        items: Type.Array(Type.Object({ ...EvidenceItem.properties, incidentId: Type.String(), content: Type.Unknown() })),
      }), [404]),
    },
  }, async (request) => {
    await incidentDetail(app.cordon.db, request.params.id);
    const items = await listEvidence(app.cordon.db, request.params.id);
    return {
      incidentId: request.params.id,
      algorithm: 'contentDigest = SHA-256(RFC 8785 JSON of content); hash = SHA-256(RFC 8785 JSON of {seq, id, incidentId, kind, title, ref, contentDigest, prevHash, collectedBy, collectedAt}); prevHash of the first item = 64 zeros',
      verification: verifyEvidenceChain(items),
      items,
    };
  });

  app.get('/v1/incidents/:id/evidence/verify', {
    config: { roles: READERS },
    schema: { summary: 'Recompute the evidence chain and name the first item that does not hold', tags: ['incidents'], params: IdParam, response: responses(200, EvidenceVerification, [404]) },
  }, async (request) => {
    await incidentDetail(app.cordon.db, request.params.id);
    return verifyEvidenceChain(await listEvidence(app.cordon.db, request.params.id));
  });

  app.get('/v1/incidents/:id/report', {
    config: { roles: READERS },
    schema: {
      summary: 'The incident report, mapped to NIST CSF 2.0 and the OWASP NHI Top 10 (Markdown or JSON)', tags: ['incidents'], params: IdParam,
      querystring: Type.Object({ format: Type.Enum(['md', 'json'], { default: 'md' }) }, { additionalProperties: false }),
      response: { 200: { description: 'text/markdown, or the report as JSON', content: { 'text/markdown': { schema: Type.String() }, 'application/json': { schema: Json } } } },
    },
  }, async (request, reply) => {
    const report = await incidentReport(app.cordon.db, request.params.id);
    const filename = `incident-${request.params.id}.${request.query.format}`;
    reply.header('content-disposition', `attachment; filename="${filename}"`);
    if (request.query.format === 'json') return reply.type('application/json').serializer(JSON.stringify).send({ ...report });
    return reply.type('text/markdown; charset=utf-8').serializer((v: unknown) => String(v)).send(reportMarkdown(report));
  });

  app.get('/v1/metrics/incidents', {
    config: { roles: READERS },
    schema: {
      summary: 'Time to detect, time to contain and exposure window over all incidents, and per incident over time', tags: ['incidents'],
      response: responses(200, OverallMetrics),
    },
  }, async () => overallMetrics(app.cordon.db));
}
