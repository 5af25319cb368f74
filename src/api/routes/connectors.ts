import Type from 'typebox';
import { connectorType, isConnectorType } from '../../connectors/registry.js';
import { maskSecretParams } from '../../connectors/secret-params.js';
import { NotFoundError } from '../../domain/errors.js';
import { READERS, RESPONDERS } from '../../domain/roles.js';
import { getJob } from '../../store/jobs.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, Json, responses } from '../schemas.js';
import type { Api } from '../server.js';

const Connector = Type.Object({
  id: Type.String(),
  type: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  environment: Type.Union([Type.String(), Type.Null()]),
  params: Json,
  capabilities: Type.Array(Type.String()),
  targetKinds: Type.Array(Type.String()),
});

const Job = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  payload: Json,
  status: Type.String(),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  result: Type.Union([Json, Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
});

export async function connectorRoutes(app: Api): Promise<void> {
  app.get('/v1/connectors', {
    config: { roles: READERS },
    schema: { summary: 'Configured connectors (secret parameters masked)', tags: ['connectors'], response: responses(200, Type.Object({ items: Type.Array(Connector) })) },
  }, async () => {
    const rows = await app.cordon.db.selectFrom('connectors').selectAll().orderBy('id').execute();
    return {
      items: rows.map((row) => {
        const type = isConnectorType(row.type) ? connectorType(row.type) : undefined;
        return {
          id: row.id, type: row.type, name: row.name, environment: row.environment,
          params: maskSecretParams(type?.params, row.params),
          capabilities: [...(type?.capabilities ?? [])], targetKinds: [...(type?.targetKinds ?? [])],
        };
      }),
    };
  });

  app.post('/v1/connectors/:id/discover', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'Queue a discovery run of the connector\'s system; poll the job',
      tags: ['connectors'],
      params: IdParam,
      response: responses(202, Job, [404]),
    },
  }, async (request, reply) => {
    const job = await app.cordon.discovery.queue(request.params.id, actorOf(request));
    return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(job);
  });

  app.get('/v1/jobs/:id', {
    config: { roles: READERS },
    schema: { summary: 'A queued job and its result', tags: ['connectors'], params: IdParam, response: responses(200, Job, [404]) },
  }, async (request) => {
    const job = await getJob(app.cordon.db, request.params.id);
    if (!job) throw new NotFoundError('ERR_JOB_NOT_FOUND', `job "${request.params.id}" does not exist`);
    return job;
  });
}
