import Type from 'typebox';
import { listAudit, verifyAudit } from '../../audit/service.js';
import { READERS } from '../../domain/roles.js';
import { DateTime, Json, Limit, responses } from '../schemas.js';
import type { Api } from '../server.js';

const AuditRecord = Type.Object({
  seq: Type.Integer(),
  at: DateTime,
  actor: Type.String(),
  actorSubject: Type.String(),
  action: Type.String(),
  subject: Type.String(),
  payload: Json,
  payloadDigest: Type.String(),
  prevHash: Type.String(),
  hash: Type.String(),
});

const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  headSeq: Type.Union([Type.Integer(), Type.Null()]),
  headHash: Type.String(),
  firstBad: Type.Optional(Type.Object({ seq: Type.Integer(), reason: Type.String() })),
});

export async function auditRoutes(app: Api): Promise<void> {
  app.get('/v1/audit', {
    config: { roles: READERS },
    schema: {
      summary: 'Audit records in chain order',
      tags: ['audit'],
      querystring: Type.Object({
        after: Type.Optional(Type.Integer({ minimum: 0, description: 'Records with a sequence number above this' })),
        action: Type.Optional(Type.String({ maxLength: 100 })),
        subject: Type.Optional(Type.String({ maxLength: 300 })),
        limit: Limit(1000, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(AuditRecord), nextAfter: Type.Union([Type.Integer(), Type.Null()]) })),
    },
  }, async (request) => {
    const { after, ...filter } = request.query;
    const items = await listAudit(app.cordon.db, { ...filter, afterSeq: after });
    return { items, nextAfter: items.length === filter.limit ? items.at(-1)!.seq : null };
  });

  app.get('/v1/audit/verify', {
    config: { roles: READERS },
    schema: {
      summary: 'Recompute the hash chain and name the first row that does not hold',
      tags: ['audit'],
      response: responses(200, VerifyResult),
    },
  }, async () => verifyAudit(app.cordon.db));
}
