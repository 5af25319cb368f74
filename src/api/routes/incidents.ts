import Type from 'typebox';
import { SEVERITIES } from '../../domain/detection.js';
import { INCIDENT_STATUSES, TLP_LABELS } from '../../domain/incident.js';
import { READERS } from '../../domain/roles.js';
import { incidentDetail, listIncidents } from '../../incidents/queries.js';
import type { ActionRun } from '../../respond/runs.js';
import { ActionRunView, actionRunView } from './actions.js';
import { DateTime, IdParam, Json, Limit, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

export const Incident = Type.Object({
  id: Type.String(),
  title: Type.String(),
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
  seq: Type.Integer(), at: DateTime, kind: Type.String(), actor: Type.String(), summary: Type.String(),
  ref: Type.Union([Type.String(), Type.Null()]), data: Json,
});

const IncidentDetail = Type.Object({
  ...Incident.properties,
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
  evidence: Type.Array(Type.Object({
    seq: Type.Integer(), id: Type.String(), kind: Type.String(), title: Type.String(), ref: Type.Union([Type.String(), Type.Null()]),
    contentDigest: Type.String(), prevHash: Type.String(), hash: Type.String(), collectedBy: Type.String(), collectedAt: DateTime,
  })),
});

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
      actions: detail.actions.map((run) => actionRunView(run as unknown as ActionRun, detail.approvals.filter((a) => a.runId === run.id))),
    };
  });
}
