import Type from 'typebox';
import { TOKEN_TYPE_JWT, SUBJECT_TOKEN_TYPES } from '../../broker/claims.js';
import { InvalidInputError } from '../../domain/errors.js';
import { READERS, WORKLOADS } from '../../domain/roles.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

const Task = Type.Object({
  id: Type.String(),
  identityId: Type.String(),
  purpose: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('ended'), Type.Literal('expired')]),
  createdBy: Type.String(),
  createdAt: DateTime,
  expiresAt: DateTime,
  endedAt: NullableDateTime,
  endReason: Type.Union([Type.String(), Type.Null()]),
});

/** The workload proves who it is with its own token (a workload JWT or a Cordon token). */
const Proof = {
  subjectToken: Type.String({ minLength: 1, maxLength: 16_384, description: 'A token of the workload: from a trusted issuer, or a Cordon token' }),
  subjectTokenType: Type.Optional(Type.Enum(SUBJECT_TOKEN_TYPES, { default: TOKEN_TYPE_JWT })),
};

/** Tasks: start one, end one (revoking its tokens and dropping its database roles), credentials for it. */
export async function taskRoutes(app: Api): Promise<void> {
  app.post('/v1/tasks', {
    config: { roles: WORKLOADS },
    schema: {
      summary: 'Start a task for the identity the subject token is bound to (default 5 minutes, capped)',
      tags: ['tasks'],
      body: Type.Object({
        ...Proof,
        purpose: Type.String({ minLength: 1, maxLength: 500 }),
        ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
      }, { additionalProperties: false }),
      response: responses(201, Task),
    },
  }, async (request, reply) => {
    const { subjectToken, subjectTokenType, purpose, ttlSeconds } = request.body;
    const task = await app.cordon.broker.startTask({ proof: { token: subjectToken, tokenType: subjectTokenType ?? TOKEN_TYPE_JWT }, purpose, ttlSeconds }, actorOf(request));
    return reply.code(201).send(task);
  });

  app.get('/v1/tasks/:id', {
    config: { roles: READERS },
    schema: { summary: 'A task', tags: ['tasks'], params: IdParam, response: responses(200, Task, [404]) },
  }, async (request) => app.cordon.broker.getTask(request.params.id));

  app.post('/v1/tasks/:id/end', {
    config: { roles: [...WORKLOADS, 'responder'] },
    // A responder may send no body at all.
    preValidation: async (request) => {
      request.body ??= {};
    },
    schema: {
      summary: 'End a task: every token issued for it is revoked and its database roles dropped',
      description: 'A workload proves the task is its own with subjectToken; responders and admins need not.',
      tags: ['tasks'],
      params: IdParam,
      body: Type.Object({
        subjectToken: Type.Optional(Proof.subjectToken),
        subjectTokenType: Proof.subjectTokenType,
        reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({
        task: Task,
        revokedTokens: Type.Array(Type.String(), { description: 'jtis revoked now' }),
        droppedRoles: Type.Array(Type.String()),
        pendingRoles: Type.Array(Type.String(), { description: 'Roles whose server could not be reached: a job drops them' }),
      }), [404, 409]),
    },
  }, async (request) => {
    const body = request.body;
    if (request.principal!.role === 'workload' && !body.subjectToken) {
      throw new InvalidInputError('ERR_VALIDATION', 'a workload ends only its own tasks: give subjectToken', [{ path: '/subjectToken', message: 'is required for a workload', in: 'body' }]);
    }
    const proof = body.subjectToken ? { token: body.subjectToken, tokenType: body.subjectTokenType ?? TOKEN_TYPE_JWT } : undefined;
    return app.cordon.broker.endTask(request.params.id, proof, actorOf(request), body.reason);
  });

  app.post('/v1/tasks/:id/database-credentials', {
    config: { roles: WORKLOADS },
    schema: {
      summary: 'A temporary PostgreSQL login for the task, valid until it ends; the password is shown once',
      tags: ['tasks'],
      params: IdParam,
      body: Type.Object({
        ...Proof,
        connector: Type.String({ minLength: 1, maxLength: 300 }),
        roles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { minItems: 1, description: 'Default: every role the identity may take there' })),
      }, { additionalProperties: false }),
      response: responses(201, Type.Object({
        id: Type.String(), connector: Type.String(), host: Type.String(), port: Type.Integer(), database: Type.String(),
        username: Type.String(), password: Type.String(), memberOf: Type.Array(Type.String()), validUntil: DateTime,
      }), [404, 409]),
    },
  }, async (request, reply) => {
    const { subjectToken, subjectTokenType, connector, roles } = request.body;
    const issued = await app.cordon.broker.issueDbCredential(request.params.id, { token: subjectToken, tokenType: subjectTokenType ?? TOKEN_TYPE_JWT }, { connector, roles }, actorOf(request));
    return reply.code(201).header('cache-control', 'no-store').send(issued);
  });
}
