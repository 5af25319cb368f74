import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import { registerAjvFormats, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { InvalidInputError } from '../domain/errors.js';
import type { Context } from '../runtime/context.js';
import { registerAuth } from './auth.js';
import { registerProblemHandlers } from './problem.js';
import { actionRoutes } from './routes/actions.js';
import { auditRoutes } from './routes/audit.js';
import { brokerRoutes } from './routes/broker.js';
import { connectorRoutes } from './routes/connectors.js';
import { consoleRoutes } from './routes/console.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { detectionRoutes } from './routes/detections.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { identityRoutes } from './routes/identities.js';
import { incidentRoutes } from './routes/incidents.js';
import { inventoryRoutes } from './routes/inventory.js';
import { metricsRoutes } from './routes/metrics.js';
import { oauthRoutes } from './routes/oauth.js';
import { openapiRoutes } from './routes/openapi.js';
import { taskRoutes } from './routes/tasks.js';
import { playbookRoutes } from './routes/playbooks.js';
import { policyRoutes } from './routes/policy.js';
import { sessionRoutes } from './routes/session.js';
import { streamRoutes } from './routes/stream.js';
import { tokenRoutes } from './routes/tokens.js';
import { wellKnownRoutes } from './routes/wellknown.js';
import { validatorCompiler } from './validation.js';

export type ApiContext = Context & { version: string };

declare module 'fastify' {
  interface FastifyInstance {
    cordon: ApiContext;
  }
}

export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

registerAjvFormats();

/** The HTTP API: one plugin per area, every route authenticated unless it says `public`. */
export async function buildApi(context: ApiContext): Promise<Api> {
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.decorate('cordon', context);

  registerProblemHandlers(app);
  registerAuth(app, context.tokens);
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseYaml(body as string, { maxAliasCount: 100, uniqueKeys: true }));
    } catch (error) {
      done(new InvalidInputError('ERR_YAML_SYNTAX', `the YAML body cannot be parsed: ${(error as Error).message.split('\n')[0]}`, [{ path: '', in: 'body', message: 'not valid YAML' }]), undefined);
    }
  });
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Cordon API', version: context.version, description: 'Non-human identity detection to verified containment' },
      components: { securitySchemes: { apiToken: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiToken: [] }],
    },
  });

  await app.register(healthRoutes);
  await app.register(openapiRoutes);
  await app.register(inventoryRoutes);
  await app.register(identityRoutes);
  await app.register(auditRoutes);
  await app.register(tokenRoutes);
  await app.register(connectorRoutes);
  await app.register(wellKnownRoutes);
  await app.register(oauthRoutes);
  await app.register(taskRoutes);
  await app.register(brokerRoutes);
  await app.register(eventRoutes);
  await app.register(detectionRoutes);
  await app.register(deadLetterRoutes);
  await app.register(policyRoutes);
  await app.register(actionRoutes);
  await app.register(playbookRoutes);
  await app.register(incidentRoutes);
  await app.register(metricsRoutes);
  await app.register(sessionRoutes);
  await app.register(streamRoutes);
  // Last: its catch-all serves the console for every path the API does not answer.
  await app.register(consoleRoutes);
  return app;
}
