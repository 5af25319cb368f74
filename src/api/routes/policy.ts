import Type from 'typebox';
import { InvalidInputError, NotFoundError } from '../../domain/errors.js';
import { ADMINS, READERS, WORKLOADS } from '../../domain/roles.js';
import type { BundleInput } from '../../policy/load.js';
import { AuthorizeRequest } from '../../policy/request.js';
import { BATCH_MAX } from '../../policy/service.js';
import { getVersion, listVersions } from '../../policy/versions.js';
import { actorOf } from '../auth.js';
import { DateTime, Issue, Limit, responses } from '../schemas.js';
import type { Api } from '../server.js';

const Decision = Type.Object({
  decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  reasons: Type.Array(Type.String(), { description: 'Ids of the policies that decided: the satisfied forbids of a deny, the satisfied permits of an allow; empty for a default deny' }),
  errors: Type.Array(Type.String(), { description: 'Policies that could not be evaluated, as "<policy id>: <why>"' }),
  decisionId: Type.String({ format: 'uuid' }),
  policyVersion: Type.Integer(),
});

const BatchItem = Type.Union([
  Type.Intersect([Type.Object({ index: Type.Integer() }), Decision]),
  Type.Object({ index: Type.Integer(), error: Type.Object({ code: Type.String(), message: Type.String(), errors: Type.Array(Issue) }) }),
]);

const Document = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\\\]+$', description: 'Names the document in policy ids (<name>#<n>) and errors (<name>:<line>:<col>)' }),
  text: Type.String({ maxLength: 5 * 1024 * 1024 }),
}, { additionalProperties: false });

const PolicySetBody = Type.Object({
  policies: Type.Array(Document, { minItems: 1, maxItems: 1000, description: 'Cedar policy documents; together they replace the serving set' }),
  schema: Type.Optional(Document),
  entities: Type.Optional(Document),
  comment: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false, description: 'A whole policy set. Without `schema` or `entities`, those of the serving version are kept.' });

const LoadResult = Type.Object({
  version: Type.Integer(),
  digest: Type.String(),
  policyIds: Type.Array(Type.String()),
  warnings: Type.Array(Issue),
  changed: Type.Boolean(),
});

const VersionSummary = Type.Object({
  version: Type.Integer(),
  digest: Type.String(),
  origin: Type.String(),
  policyIds: Type.Array(Type.String()),
  documents: Type.Array(Type.String()),
  comment: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.String(),
  createdAt: DateTime,
});

const DecisionRecord = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  at: DateTime,
  policyVersion: Type.Integer(),
  principal: Type.Object({ type: Type.String(), id: Type.String() }),
  action: Type.String(),
  resource: Type.Object({ type: Type.String(), id: Type.String() }),
  decision: Type.String(),
  reasons: Type.Array(Type.String()),
  errors: Type.Array(Type.String()),
  taskId: Type.Optional(Type.String()),
  caller: Type.String(),
  contextKeys: Type.Array(Type.String()),
  durationUs: Type.Integer(),
});

export async function policyRoutes(app: Api): Promise<void> {
  const policies = app.cordon.policies;

  app.post('/v1/authorize', {
    config: { roles: WORKLOADS },
    schema: {
      summary: 'Decide a request against the serving policies; the context gets the time, the task and the principal\'s risk',
      tags: ['policy'],
      body: AuthorizeRequest,
      response: responses(200, Decision),
    },
  }, async (request) => policies.authorize(request.body, actorOf(request).id));

  app.post('/v1/authorize/batch', {
    config: { roles: WORKLOADS },
    schema: {
      summary: `Decide up to ${BATCH_MAX} requests; a bad one gets its error, the others their decisions`,
      tags: ['policy'],
      body: Type.Object({ requests: Type.Array(Type.Unknown(), { minItems: 1, maxItems: BATCH_MAX }) }, { additionalProperties: false }),
      response: responses(200, Type.Object({ results: Type.Array(BatchItem) })),
    },
  }, async (request) => ({ results: await policies.authorizeBatch(request.body.requests, actorOf(request).id) }));

  app.get('/v1/policies', {
    config: { roles: ADMINS },
    schema: {
      summary: 'The serving policy version and its policies, with where each was written',
      tags: ['policy'],
      response: responses(200, Type.Object({
        version: Type.Integer(),
        digest: Type.String(),
        policies: Type.Array(Type.Object({ id: Type.String(), source: Type.String(), text: Type.String() })),
      })),
    },
  }, async () => {
    const { version, digest, policies: items } = await policies.current();
    return { version, digest, policies: items };
  });

  app.post('/v1/policies', {
    config: { roles: ADMINS },
    bodyLimit: 20 * 1024 * 1024,
    schema: {
      summary: 'Load a new policy version; a set that does not validate leaves the serving one in place',
      tags: ['policy'],
      body: PolicySetBody,
      response: responses(200, LoadResult),
    },
  }, async (request) => policies.load(await withServing(request.body), actorOf(request), request.body.comment));

  app.post('/v1/policies/validate', {
    config: { roles: ADMINS },
    bodyLimit: 20 * 1024 * 1024,
    schema: {
      summary: 'Validate a policy set without loading it',
      tags: ['policy'],
      body: PolicySetBody,
      response: responses(200, Type.Object({ policyIds: Type.Array(Type.String()), warnings: Type.Array(Issue), digest: Type.String() })),
    },
  }, async (request) => policies.check(await withServing(request.body)));

  app.post('/v1/policies/reload', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Load the policy directory as a new version if it changed',
      tags: ['policy'],
      response: responses(200, LoadResult),
    },
  }, async (request) => policies.loadFiles(actorOf(request)));

  app.get('/v1/policies/versions', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Policy versions, newest first',
      tags: ['policy'],
      querystring: Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Limit(200, 50) }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(VersionSummary) })),
    },
  }, async (request) => ({ items: await listVersions(app.cordon.db, request.query) }));

  app.get('/v1/policies/versions/:version', {
    config: { roles: ADMINS },
    schema: {
      summary: 'One policy version with its documents',
      tags: ['policy'],
      params: Type.Object({ version: Type.Integer({ minimum: 1 }) }),
      response: responses(200, Type.Intersect([VersionSummary, Type.Object({
        schema: Document,
        policies: Type.Array(Document),
        entities: Type.Union([Document, Type.Null()]),
      })]), [404]),
    },
  }, async (request) => {
    const found = await getVersion(app.cordon.db, request.params.version);
    if (!found) throw new NotFoundError('ERR_POLICY_VERSION_NOT_FOUND', `there is no policy version ${request.params.version}`);
    const { input, ...summary } = found;
    return { ...summary, schema: input.schema, policies: input.policies, entities: input.entities ?? null };
  });

  app.get('/v1/policies/decisions', {
    config: { roles: READERS },
    schema: {
      summary: 'The decision log, newest first (every deny; allows at the configured sample rate)',
      tags: ['policy'],
      querystring: Type.Object({
        principal: Type.Optional(Type.String({ maxLength: 500, description: 'Principal id' })),
        decision: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
        action: Type.Optional(Type.String({ maxLength: 200, description: 'Action id, e.g. tool.call' })),
        before: Type.Optional(Type.Integer({ minimum: 1, description: 'Entries with a sequence number below this' })),
        limit: Limit(1000, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(DecisionRecord), nextBefore: Type.Union([Type.Integer(), Type.Null()]) })),
    },
  }, async (request) => {
    const items = await app.cordon.decisions.list(request.query);
    return { items, nextBefore: items.length === request.query.limit ? items.at(-1)!.seq : null };
  });

  /** A body without a schema or entities keeps those of the serving version. */
  async function withServing(body: { policies: BundleInput['policies']; schema?: BundleInput['schema']; entities?: BundleInput['entities'] }): Promise<BundleInput> {
    if (body.schema && body.entities) return { schema: body.schema, policies: body.policies, entities: body.entities };
    const serving = (await policies.current()).input;
    const schema = body.schema ?? serving.schema;
    if (!schema.text) throw new InvalidInputError('ERR_POLICY_SCHEMA', 'no schema is serving: send one', [{ path: '/schema', in: 'body', message: 'is required' }]);
    return { schema, policies: body.policies, entities: body.entities ?? serving.entities };
  }
}
