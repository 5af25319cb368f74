import Type from 'typebox';
import { EVENT_FORMATS } from '../../domain/event.js';
import { READERS } from '../../domain/roles.js';
import { listDeadLetters } from '../../ingest/dead-letters.js';
import { DateTime, Limit, responses } from '../schemas.js';
import type { Api } from '../server.js';

const DeadLetter = Type.Object({
  id: Type.String(),
  digest: Type.String({ description: 'Keyed digest of the record: the same record is kept once' }),
  receivedAt: DateTime,
  channel: Type.String(),
  format: Type.Union([Type.String(), Type.Null()]),
  recordIndex: Type.Integer(),
  line: Type.Union([Type.Integer(), Type.Null()]),
  code: Type.String(),
  reason: Type.String(),
  issues: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
  payload: Type.Unknown({ description: 'The record when it was JSON, secrets replaced by fingerprints; null otherwise' }),
  size: Type.Integer(),
});

export async function deadLetterRoutes(app: Api): Promise<void> {
  app.get('/v1/dead-letters', {
    config: { roles: READERS },
    schema: {
      summary: 'Records that could not be ingested, with the reason, oldest first',
      tags: ['events'],
      querystring: Type.Object({
        code: Type.Optional(Type.String({ maxLength: 100 })),
        format: Type.Optional(Type.Enum(EVENT_FORMATS)),
        since: Type.Optional(Type.String({ format: 'date-time' })),
        cursor: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Limit(1000, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(DeadLetter), nextCursor: Type.Union([Type.String(), Type.Null()]) })),
    },
  }, async (request) => {
    const { since, cursor, ...filter } = request.query;
    return listDeadLetters(app.cordon.db, { ...filter, since: since ? new Date(since) : undefined, after: cursor });
  });
}
