import Type, { type Static } from 'typebox';
import { ACTIONS } from '../../domain/action-run.js';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES } from '../../domain/detection.js';
import { IDENTITY_KINDS, PROVIDERS } from '../../domain/identity.js';
import { APPROVAL_DEFAULTS, APPROVER_ROLES, GUARD_CONDITIONS, GUARD_EFFECTS, TARGET_SELECTORS } from '../../domain/playbook.js';

/**
 * A playbook as written in `playbooks/*.yaml` (SPEC §2, §3.4). `schemas/playbook.schema.json` is
 * generated from this (`npm run schemas`) and a test keeps the two equal. What one schema cannot
 * say (an action's parameters, the selectors it accepts, unique step ids) is checked by `load.ts`.
 */

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'Lower-case letters, digits, _ and -' });
const Duration = Type.String({ pattern: '^\\d{1,6}(s|m|h|d)$', description: '30s, 5m, 1h, 2d' });
const TeamId = Type.String({ minLength: 1, maxLength: 200, description: 'A team id of the inventory' });

export const GuardSpec = Type.Object({
  when: Type.Enum(GUARD_CONDITIONS),
  above: Type.Optional(Type.Integer({ minimum: 0, description: 'blast_radius_above: the number of identities' })),
  then: Type.Enum(GUARD_EFFECTS),
}, { additionalProperties: false });

export const ApprovalSpec = Type.Union([
  Type.Literal('auto'),
  Type.Object({
    required: Type.Literal(true),
    roles: Type.Optional(Type.Array(Type.Enum(APPROVER_ROLES), { minItems: 1, uniqueItems: true, description: 'Default: approver, admin' })),
    quorum: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'Distinct approvers needed; default 1' })),
    timeout: Type.Optional(Duration),
    default: Type.Optional(Type.Enum(APPROVAL_DEFAULTS, { description: 'What the timeout decides; default deny' })),
  }, { additionalProperties: false }),
], { description: '`auto`, or an approval with roles, quorum, timeout and default' });

export const StepSpec = Type.Object({
  id: Id,
  action: Type.Enum(ACTIONS),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  target: Type.Optional(Type.Enum(TARGET_SELECTORS, { description: 'What the action acts on; each action accepts some (docs/response.md)' })),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Checked against the action\'s own parameters' })),
  owner: Type.Optional(TeamId),
  approval: Type.Optional(ApprovalSpec),
  guards: Type.Optional(Type.Array(GuardSpec)),
  continueOnError: Type.Optional(Type.Boolean({ description: 'Go on with the next step when this one fails (default false: stop and escalate)' })),
  timeout: Type.Optional(Duration),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
}, { additionalProperties: false });

export const TierSpec = Type.Object({
  name: Id,
  steps: Type.Array(StepSpec, { minItems: 1 }),
}, { additionalProperties: false });

export const MatchSpec = Type.Object({
  types: Type.Array(Type.Enum(DETECTION_TYPES), { minItems: 1, uniqueItems: true }),
  minSeverity: Type.Optional(Type.Enum(SEVERITIES)),
  minConfidence: Type.Optional(Type.Enum(CONFIDENCES)),
  maxConfidence: Type.Optional(Type.Enum(CONFIDENCES)),
  identity: Type.Optional(Type.Enum(['required', 'absent', 'any'], { description: 'Whether the detection names an identity; default required' })),
  identityKinds: Type.Optional(Type.Array(Type.Enum(IDENTITY_KINDS), { minItems: 1, uniqueItems: true })),
  providers: Type.Optional(Type.Array(Type.Enum(PROVIDERS), { minItems: 1, uniqueItems: true })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'The identity has at least one of them' })),
  environments: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
}, { additionalProperties: false });

export const PlaybookSpec = Type.Object({
  apiVersion: Type.Literal('cordon/v1'),
  kind: Type.Literal('Playbook'),
  id: Id,
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Among playbooks that match, the highest wins; default 100' })),
  match: MatchSpec,
  tiers: Type.Array(TierSpec, { minItems: 1 }),
  escalation: Type.Optional(Type.Object({
    always: Type.Optional(Type.Boolean({ description: 'Hand the incident to dedicated response once the steps ran' })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    team: Type.Optional(TeamId),
  }, { additionalProperties: false })),
}, { additionalProperties: false, title: 'Cordon playbook' });

export type PlaybookInput = Static<typeof PlaybookSpec>;
export type StepInput = Static<typeof StepSpec>;
export type GuardInput = Static<typeof GuardSpec>;
export type MatchInput = Static<typeof MatchSpec>;
