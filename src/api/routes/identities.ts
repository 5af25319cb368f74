import Type from 'typebox';
import { EDGE_KINDS, NODE_TYPES } from '../../domain/graph.js';
import { CRITICALITIES, IDENTITY_KINDS, IDENTITY_STATUSES, PROVIDERS } from '../../domain/identity.js';
import { READERS } from '../../domain/roles.js';
import { blastRadius, MAX_DEPTH, MAX_NODES } from '../../inventory/blast-radius.js';
import { identityDetail, listIdentities } from '../../inventory/identities.js';
import { DateTime, IdParam, Json, Limit, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

const IdentityFields = {
  id: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  provider: Type.String(),
  connectorId: Type.Union([Type.String(), Type.Null()]),
  externalRef: Type.Union([Type.String(), Type.Null()]),
  environment: Type.String(),
  status: Type.String(),
  criticality: Type.String(),
  tags: Type.Array(Type.String()),
  schedule: Type.Union([Json, Type.Null()]),
  attributes: Json,
  source: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
  lastUsedAt: NullableDateTime,
};

const IdentitySummary = Type.Object({
  ...IdentityFields,
  owners: Type.Object({ team: Type.Union([Type.String(), Type.Null()]), backup: Type.Union([Type.String(), Type.Null()]) }),
  oldestCredentialAt: NullableDateTime,
});

const NodeRef = Type.Object({ type: Type.Enum(NODE_TYPES), id: Type.String() });
const GraphEdge = Type.Object({ kind: Type.Enum(EDGE_KINDS), from: NodeRef, to: NodeRef, attributes: Json });

const IdentityDetail = Type.Object({
  ...IdentityFields,
  owners: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), responsibility: Type.String(), channel: Type.Union([Type.String(), Type.Null()]), role: Type.String() })),
  credentials: Type.Array(Type.Object({
    id: Type.String(), name: Type.String(), type: Type.String(), fingerprint: Type.Union([Type.String(), Type.Null()]),
    externalRef: Type.Union([Type.String(), Type.Null()]), status: Type.String(),
    storedIn: Type.Union([Type.Object({ kind: Type.String(), path: Type.String() }), Type.Null()]),
    createdAt: DateTime, expiresAt: NullableDateTime, lastRotatedAt: NullableDateTime, updatedAt: DateTime,
    ageDays: Type.Integer(), sharedWith: Type.Array(Type.String()),
  })),
  sessions: Type.Array(Type.Object({
    id: Type.String(), identityId: Type.String(), credentialId: Type.Union([Type.String(), Type.Null()]),
    parentSessionId: Type.Union([Type.String(), Type.Null()]), jti: Type.Union([Type.String(), Type.Null()]),
    source: Type.String(), status: Type.String(), issuedAt: DateTime, expiresAt: NullableDateTime, endedAt: NullableDateTime,
    attributes: Json, updatedAt: DateTime,
  })),
  grants: Type.Array(Type.Object({
    id: Type.String(), identityId: Type.String(), resourceId: Type.String(), resourceName: Type.String(),
    resourceCriticality: Type.String(), permissions: Type.Array(Type.String()), source: Type.String(),
    grantedAt: NullableDateTime, lastUsedAt: NullableDateTime, updatedAt: DateTime,
  })),
  edges: Type.Array(GraphEdge),
});

const BlastRadius = Type.Object({
  start: NodeRef,
  depth: Type.Integer(),
  truncated: Type.Boolean(),
  nodes: Type.Array(Type.Object({
    type: Type.Enum(NODE_TYPES), id: Type.String(), depth: Type.Integer(), via: Type.String(),
    from: Type.Optional(NodeRef), label: Type.String(),
  })),
  identities: Type.Array(Type.String()),
  credentials: Type.Array(Type.String()),
  sessions: Type.Array(Type.String()),
  resources: Type.Array(Type.Object({
    id: Type.String(), name: Type.String(), criticality: Type.Enum(CRITICALITIES),
    permissions: Type.Array(Type.String()), through: Type.Array(Type.String()),
  })),
  revocationImpact: Type.Object({
    consumers: Type.Array(Type.Object({
      identityId: Type.String(), name: Type.String(), kind: Type.String(), status: Type.String(), relation: Type.String(),
      criticality: Type.String(), customerFacing: Type.Boolean(),
    })),
    safeToRevoke: Type.Boolean(),
    highestCriticality: Type.Union([Type.Enum(CRITICALITIES), Type.Null()]),
  }),
});

const BlastRadiusQuery = Type.Object({
  depth: Type.Integer({ minimum: 0, maximum: MAX_DEPTH, default: 6 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_NODES, default: 2000 }),
}, { additionalProperties: false });

export async function identityRoutes(app: Api): Promise<void> {
  app.get('/v1/identities', {
    config: { roles: READERS },
    schema: {
      summary: 'List identities, filtered; keyset pagination by id',
      tags: ['identities'],
      querystring: Type.Object({
        kind: Type.Optional(Type.Enum(IDENTITY_KINDS)),
        environment: Type.Optional(Type.String({ maxLength: 100 })),
        status: Type.Optional(Type.Enum(IDENTITY_STATUSES)),
        provider: Type.Optional(Type.Enum(PROVIDERS)),
        connector: Type.Optional(Type.String({ maxLength: 200 })),
        owner: Type.Optional(Type.String({ maxLength: 200, description: 'Team id (primary or backup owner)' })),
        tag: Type.Optional(Type.String({ maxLength: 100 })),
        q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the name or id' })),
        cursor: Type.Optional(Type.String({ maxLength: 300 })),
        limit: Limit(1000, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(IdentitySummary), nextCursor: Type.Union([Type.String(), Type.Null()]) })),
    },
  }, async (request) => {
    const { cursor, ...filter } = request.query;
    return listIdentities(app.cordon.db, { ...filter, after: cursor });
  });

  app.get('/v1/identities/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'An identity with its owners, credentials (age, sharing), sessions, grants and edges',
      tags: ['identities'],
      params: IdParam,
      response: responses(200, IdentityDetail, [404]),
    },
  }, async (request) => identityDetail(app.cordon.db, request.params.id));

  app.get('/v1/identities/:id/blast-radius', {
    config: { roles: READERS },
    schema: {
      summary: 'What a compromise of this identity exposes, and what revoking it breaks',
      tags: ['identities'],
      params: IdParam,
      querystring: BlastRadiusQuery,
      response: responses(200, BlastRadius, [404]),
    },
  }, async (request) => blastRadius(app.cordon.graph, { type: 'identity', id: request.params.id }, request.query));

  app.get('/v1/credentials/:id/blast-radius', {
    config: { roles: READERS },
    schema: {
      summary: 'What a leak of this credential exposes, and what rotating it breaks',
      tags: ['identities'],
      params: IdParam,
      querystring: BlastRadiusQuery,
      response: responses(200, BlastRadius, [404]),
    },
  }, async (request) => blastRadius(app.cordon.graph, { type: 'credential', id: request.params.id }, request.query));
}
