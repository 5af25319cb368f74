import { sql } from 'kysely';
import Type from 'typebox';
import { EVENT_FORMATS, EVENT_TYPES } from '../../domain/event.js';
import { InvalidInputError, NotFoundError } from '../../domain/errors.js';
import { READERS, RESPONDERS } from '../../domain/roles.js';
import type { IngestSummary } from '../../ingest/pipeline.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, Json, Limit, responses } from '../schemas.js';
import type { Api } from '../server.js';

const Summary = Type.Object({
  received: Type.Integer(),
  stored: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer(),
  deadLettered: Type.Integer({ description: 'Rejected records newly kept as dead letters (one already kept is not kept twice)' }),
  detections: Type.Integer(),
  events: Type.Array(Type.Object({ record: Type.Integer(), id: Type.String() })),
  errors: Type.Array(Type.Object({
    record: Type.Integer({ description: 'Position of the record in the batch, from 0' }),
    line: Type.Optional(Type.Integer({ description: 'Line in NDJSON input, from 1' })),
    code: Type.String(),
    path: Type.String({ description: 'The field inside the record' }),
    message: Type.String(),
  })),
});

const Event = Type.Object({
  id: Type.String(),
  dedupeKey: Type.String(),
  source: Type.String(),
  format: Type.String(),
  type: Type.String(),
  time: DateTime,
  receivedAt: DateTime,
  identityIds: Type.Array(Type.String()),
  credentialIds: Type.Array(Type.String()),
  fingerprints: Type.Array(Type.String()),
  jti: Type.Union([Type.String(), Type.Null()]),
  sourceIp: Type.Union([Type.String(), Type.Null()]),
  sourceAsn: Type.Union([Type.Integer(), Type.Null()]),
  sourceGeo: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  action: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  attributes: Json,
  raw: Type.Unknown({ description: 'The record as received, every secret replaced by [fingerprint:…]' }),
});

/** Media types the route reads as text: the body is split into records by the pipeline itself. */
const TEXT_TYPES = ['application/json', 'application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'text/plain'];
const BODY_LIMIT = 16 * 1024 * 1024;

export async function eventRoutes(app: Api): Promise<void> {
  // Encapsulated: only this plugin's routes read bodies as text, so a bad record costs that record, not the request.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(TEXT_TYPES, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.post('/v1/events', {
    config: { roles: RESPONDERS },
    bodyLimit: BODY_LIMIT,
    schema: {
      summary: 'Ingest signals: one JSON object, a JSON array, or NDJSON; good records are kept, each bad one reported',
      description: 'Formats: native, ocsf, cloudtrail, github-secret-scanning, gitleaks, trufflehog, k8s-audit, recognised per record unless `format` names one. '
        + 'Leaked secret values are fingerprinted on arrival and never stored. Sending a record again stores nothing new. '
        + 'When no record is good the answer is a 400 problem naming each record and field.',
      tags: ['events'],
      consumes: TEXT_TYPES,
      querystring: Type.Object({ format: Type.Optional(Type.Enum(EVENT_FORMATS)) }, { additionalProperties: false }),
      response: responses(200, Summary),
    },
  }, async (request) => {
    // Text for the media types above; a document another parser already read (YAML) as it is.
    const summary = await app.cordon.events.ingest(request.body ?? '', { format: request.query.format, channel: 'api' }, actorOf(request));
    if (summary.stored + summary.duplicates === 0) throw rejected(summary);
    return summary;
  });

  app.get('/v1/events', {
    config: { roles: READERS },
    schema: {
      summary: 'Stored events, newest first',
      tags: ['events'],
      querystring: Type.Object({
        type: Type.Optional(Type.Enum(EVENT_TYPES)),
        format: Type.Optional(Type.Enum(EVENT_FORMATS)),
        identity: Type.Optional(Type.String({ maxLength: 200, description: 'Events resolved to this identity' })),
        cursor: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Limit(1000, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(Event), nextCursor: Type.Union([Type.String(), Type.Null()]) })),
    },
  }, async (request) => {
    const { type, format, identity, cursor, limit } = request.query;
    let query = app.cordon.db.selectFrom('events').selectAll().orderBy('time', 'desc').orderBy('id', 'desc').limit(limit + 1);
    if (type) query = query.where('type', '=', type);
    if (format) query = query.where('format', '=', format);
    if (identity) query = query.where(sql<boolean>`identity_ids @> array[${identity}]::text[]`);
    if (cursor) {
      const bar = cursor.indexOf('|');
      const at = new Date(cursor.slice(0, bar));
      if (!Number.isNaN(at.getTime())) query = query.where(sql<boolean>`(time, id) < (${at}, ${cursor.slice(bar + 1)})`);
    }
    const rows = await query.execute();
    const items = rows.slice(0, limit).map(view);
    const last = rows[limit - 1];
    return { items, nextCursor: rows.length > limit && last ? `${last.time.toISOString()}|${last.id}` : null };
  });

  app.get('/v1/events/:id', {
    config: { roles: READERS },
    schema: { summary: 'One stored event', tags: ['events'], params: IdParam, response: responses(200, Event, [404]) },
  }, async (request) => {
    const row = await app.cordon.db.selectFrom('events').selectAll().where('id', '=', request.params.id).executeTakeFirst();
    if (!row) throw new NotFoundError('ERR_EVENT_NOT_FOUND', `event "${request.params.id}" does not exist`);
    return view(row);
  });
}

function view<T extends { sourceAsn: unknown }>(row: T) {
  return { ...row, sourceAsn: row.sourceAsn === null ? null : Number(row.sourceAsn) };
}

/** Nothing in the batch was good: a problem naming each record and field. */
function rejected(summary: IngestSummary): InvalidInputError {
  const issues = summary.errors.map((e) => ({
    path: `/${e.record}${e.path}`, message: e.message, in: 'body', source: e.line ? `line ${e.line}` : `record ${e.record}`,
  }));
  const first = summary.errors[0];
  const code = summary.errors.every((e) => e.code === first?.code) && first ? first.code : 'ERR_EVENTS_REJECTED';
  return new InvalidInputError(code, `no record was accepted: ${summary.rejected} rejected (${issues.slice(0, 3).map((i) => `${i.path} ${i.message}`).join('; ')}${issues.length > 3 ? '; …' : ''})`, issues);
}
