import Type from 'typebox';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES } from '../../domain/detection.js';
import { InvalidInputError } from '../../domain/errors.js';
import { ADMINS, READERS, RESPONDERS } from '../../domain/roles.js';
import type { StoredPlaybook } from '../../respond/playbooks/catalog.js';
import { playbookFromText } from '../../respond/playbooks/load.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, Json, responses } from '../schemas.js';
import type { Api } from '../server.js';

const PlaybookView = Type.Object({
  id: Type.String(),
  version: Type.Integer(),
  title: Type.String(),
  description: Type.Optional(Type.String()),
  priority: Type.Integer(),
  origin: Type.String(),
  digest: Type.String(),
  createdAt: DateTime,
  match: Json,
  escalation: Json,
  steps: Type.Array(Json),
  document: Json,
});

const PlaybookText = Type.Union([Type.String({ minLength: 1 }), Json], { description: 'A playbook: YAML text (Content-Type: application/yaml) or its JSON form' });

function view(playbook: StoredPlaybook) {
  const { id, version, title, description, priority, origin, digest, createdAt, match, escalation, steps, document } = playbook;
  return { id, version, title, description, priority, origin, digest, createdAt, match, escalation, steps, document };
}

/** The API takes a playbook as YAML text or as JSON; both are read as one YAML document, with positions. */
function asText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') return JSON.stringify(body, null, 2);
  throw new InvalidInputError('ERR_PLAYBOOK_BODY', 'the body must be a playbook in YAML or JSON', [{ path: '', in: 'body', message: 'is required' }]);
}

const RunView = Type.Object({
  seq: Type.Integer(), tier: Type.String(), stepId: Type.String(), action: Type.String(), selector: Type.String(),
  performer: Type.Union([Type.String(), Type.Null()]), targetLabel: Type.String(), identityId: Type.Union([Type.String(), Type.Null()]),
  params: Json, owner: Type.Union([Type.String(), Type.Null()]),
  approval: Type.Union([Json, Type.Null()]), guards: Type.Array(Json),
  disposition: Type.String({ description: 'run, skip, escalate, no_target or no_performer' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  diff: Type.Union([Json, Type.Null()], { description: 'What the step would change now, read from its system' }),
});

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

export async function playbookRoutes(app: Api): Promise<void> {
  // Playbooks are read as text here (not parsed by the API-wide YAML parser), so errors carry line and column.
  app.removeContentTypeParser(YAML_TYPES);
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.get('/v1/playbooks', {
    config: { roles: READERS },
    schema: { summary: 'Playbooks in force (the latest version of each)', tags: ['response'], response: responses(200, Type.Object({ items: Type.Array(PlaybookView) })) },
  }, async () => ({ items: (await app.cordon.playbooks.active()).map(view) }));

  app.get('/v1/playbooks/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'A playbook (latest version, or `version`) and its version history', tags: ['response'], params: IdParam,
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
      response: responses(200, Type.Object({
        playbook: PlaybookView,
        versions: Type.Array(Type.Object({ version: Type.Integer(), digest: Type.String(), origin: Type.String(), createdBy: Type.String(), createdAt: DateTime })),
      }), [404]),
    },
  }, async (request) => ({
    playbook: view(await app.cordon.playbooks.get(request.params.id, request.query.version)),
    versions: (await app.cordon.playbooks.versions(request.params.id)).map(({ version, digest, origin, createdBy, createdAt }) => ({ version, digest, origin, createdBy, createdAt })),
  }));

  app.post('/v1/playbooks/validate', {
    config: { roles: READERS },
    schema: {
      summary: 'Validate a playbook without storing it; errors name the playbook, step, field and position',
      tags: ['response'], body: PlaybookText,
      response: responses(200, Type.Object({ valid: Type.Literal(true), id: Type.String(), digest: Type.String(), steps: Type.Integer() })),
    },
  }, async (request) => {
    const playbook = playbookFromText(asText(request.body), 'request body');
    return { valid: true as const, id: playbook.id, digest: playbook.digest, steps: playbook.steps.length };
  });

  app.post('/v1/playbooks', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Store a playbook as its next version (nothing new when unchanged)', tags: ['response'], body: PlaybookText,
      response: responses(200, Type.Object({ id: Type.String(), version: Type.Integer(), created: Type.Boolean() })),
    },
  }, async (request) => app.cordon.playbooks.put(asText(request.body), actorOf(request)));

  const Checks = Type.Object({ rotate: Type.Boolean(), revokeSessions: Type.Boolean(), disable: Type.Boolean(), owner: Type.Boolean(), playbook: Type.Boolean() });
  const Readiness = Type.Object({
    identityId: Type.String(), name: Type.String(), kind: Type.String(), provider: Type.String(), environment: Type.String(),
    checks: Checks, score: Type.Number(), playbook: Type.Union([Type.String(), Type.Null()]), gaps: Type.Array(Type.String()),
  });

  app.get('/v1/readiness', {
    config: { roles: READERS },
    schema: {
      summary: 'Containment readiness: can Cordon rotate, revoke and disable each identity, is an owner known, does a playbook cover it',
      tags: ['response'],
      response: responses(200, Type.Object({
        summary: Type.Object({ identities: Type.Integer(), ready: Type.Integer(), score: Type.Number(), byCheck: Type.Record(Type.String(), Type.Integer()) }),
        items: Type.Array(Readiness),
      })),
    },
  }, async () => app.cordon.readiness.summary());

  app.get('/v1/identities/:id/readiness', {
    config: { roles: READERS },
    schema: { summary: 'Containment readiness of one identity', tags: ['response'], params: IdParam, response: responses(200, Readiness, [404]) },
  }, async (request) => (await app.cordon.readiness.assess({ identityId: request.params.id }))[0]!);

  app.post('/v1/playbooks/dry-run', {
    config: { roles: RESPONDERS },
    schema: {
      summary: 'The exact plan for a detection (stored, or described), changing nothing',
      description: 'Each step with its target, performer, guards, the approval it needs and the diff its system would see now.',
      tags: ['response'],
      body: Type.Union([
        Type.Object({ detectionId: Type.String({ minLength: 1 }), playbook: Type.Optional(Type.String()) }, { additionalProperties: false }),
        Type.Object({
          type: Type.Enum(DETECTION_TYPES), severity: Type.Enum(SEVERITIES), confidence: Type.Enum(CONFIDENCES),
          identityId: Type.Union([Type.String({ minLength: 1 }), Type.Null()]), credentialId: Type.Optional(Type.String({ minLength: 1 })),
          playbook: Type.Optional(Type.String()),
        }, { additionalProperties: false }),
      ]),
      response: responses(200, Type.Object({
        playbook: Type.Object({ id: Type.String(), version: Type.Integer(), title: Type.String() }),
        detection: Json,
        runs: Type.Array(RunView),
        escalations: Type.Array(Json),
      }), [404]),
    },
  }, async (request) => {
    const body = request.body;
    const plan = 'detectionId' in body
      ? await app.cordon.responses.dryRun({ detectionId: body.detectionId }, body.playbook)
      : await app.cordon.responses.dryRun({ detection: { type: body.type, severity: body.severity, confidence: body.confidence, title: `${body.type} (dry run)`, identityId: body.identityId, credentialId: body.credentialId ?? null } }, body.playbook);
    return {
      playbook: plan.playbook,
      detection: { ...plan.detection },
      escalations: plan.escalations.map((e) => ({ ...e })),
      runs: plan.runs.map((r) => ({
        seq: r.seq, tier: r.tier, stepId: r.stepId, action: r.action, selector: r.selector, performer: r.performer,
        targetLabel: r.target.label, identityId: r.target.identityId, params: r.params, owner: r.owner,
        approval: r.approval ? { ...r.approval } : null, guards: r.guards.map((g) => ({ ...g })), disposition: r.disposition, reason: r.reason,
        diff: r.diff ? { ...r.diff } : null,
      })),
    };
  });
}
