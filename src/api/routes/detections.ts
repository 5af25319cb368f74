import Type from 'typebox';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES } from '../../domain/detection.js';
import { READERS } from '../../domain/roles.js';
import { getDetection, listDetections } from '../../detect/store.js';
import { DateTime, IdParam, Json, Limit, responses } from '../schemas.js';
import type { Api } from '../server.js';

const Detection = Type.Object({
  id: Type.String(),
  rule: Type.String({ description: 'builtin:<type> or a rule id' }),
  type: Type.String(),
  severity: Type.Enum(SEVERITIES),
  confidence: Type.Enum(CONFIDENCES),
  identityId: Type.Union([Type.String(), Type.Null()]),
  credentialId: Type.Union([Type.String(), Type.Null()]),
  title: Type.String(),
  summary: Type.String(),
  evidenceEventIds: Type.Array(Type.String()),
  frameworks: Type.Object({ owaspNhi: Type.Array(Type.String()), nistCsf: Type.Array(Type.String()) }),
  attributes: Json,
  occurredAt: DateTime,
  detectedAt: DateTime,
});

const EvidenceEvent = Type.Object({
  id: Type.String(), format: Type.String(), source: Type.String(), type: Type.String(), time: DateTime,
  action: Type.Union([Type.String(), Type.Null()]), target: Type.Union([Type.String(), Type.Null()]), outcome: Type.String(),
  sourceIp: Type.Union([Type.String(), Type.Null()]), identityIds: Type.Array(Type.String()), fingerprints: Type.Array(Type.String()),
  raw: Type.Unknown(),
});

const Rule = Type.Object({
  id: Type.String(), title: Type.String(), type: Type.String(), severity: Type.String(), confidence: Type.String(),
  condition: Type.String(), source: Type.String(), frameworks: Type.Object({ owaspNhi: Type.Array(Type.String()), nistCsf: Type.Array(Type.String()) }),
});

export async function detectionRoutes(app: Api): Promise<void> {
  app.get('/v1/detections', {
    config: { roles: READERS },
    schema: {
      summary: 'Detections, newest first',
      tags: ['detections'],
      querystring: Type.Object({
        type: Type.Optional(Type.Enum(DETECTION_TYPES)),
        severity: Type.Optional(Type.Enum(SEVERITIES, { description: 'At least this severity' })),
        confidence: Type.Optional(Type.Enum(CONFIDENCES, { description: 'At least this confidence' })),
        identity: Type.Optional(Type.String({ maxLength: 200 })),
        rule: Type.Optional(Type.String({ maxLength: 200 })),
        since: Type.Optional(Type.String({ format: 'date-time' })),
        until: Type.Optional(Type.String({ format: 'date-time' })),
        cursor: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Limit(1000, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(Detection), nextCursor: Type.Union([Type.String(), Type.Null()]) })),
    },
  }, async (request) => {
    const { since, until, cursor, ...filter } = request.query;
    return listDetections(app.cordon.db, { ...filter, since: since ? new Date(since) : undefined, until: until ? new Date(until) : undefined, before: cursor });
  });

  app.get('/v1/detections/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'A detection with its evidence events',
      tags: ['detections'],
      params: IdParam,
      response: responses(200, Type.Object({ ...Detection.properties, evidence: Type.Array(EvidenceEvent) }), [404]),
    },
  }, async (request) => getDetection(app.cordon.db, request.params.id));

  app.get('/v1/rules', {
    config: { roles: READERS },
    schema: { summary: 'Detection rules loaded (YAML, CEL conditions)', tags: ['detections'], response: responses(200, Type.Object({ items: Type.Array(Rule) })) },
  }, async () => ({ items: app.cordon.rules }));
}
