import Type, { type TSchema } from 'typebox';
import type { ActionName } from '../../domain/action-run.js';
import type { TargetSelector } from '../../domain/playbook.js';

/**
 * The action catalogue (SPEC §3.4): what each action needs (its parameters) and what it can act
 * on (the target selectors a step may give it). Playbooks are validated against it; performers
 * implement it.
 */
export interface ActionDefinition {
  name: ActionName;
  title: string;
  /** Selectors a step with this action may use; the first is the default. */
  targets: readonly TargetSelector[];
  params: TSchema;
}

const Duration = (fallback: string, description: string) =>
  Type.String({ pattern: '^\\d{1,6}(s|m|h|d)$', default: fallback, description: `${description} (30s, 5m, 1h, 2d)` });
const NoParams = Type.Object({}, { additionalProperties: false });
const TeamId = Type.String({ minLength: 1, maxLength: 200 });

export const ACTION_CATALOGUE: { readonly [A in ActionName]: ActionDefinition } = {
  rotate_credential: {
    name: 'rotate_credential', title: 'Rotate the credential on its system and deliver the new value',
    targets: ['credential', 'credentials'], params: NoParams,
  },
  revoke_sessions: {
    name: 'revoke_sessions', title: 'End the live sessions and tokens',
    targets: ['sessions', 'identity', 'derived_sessions', 'sharing_identities'], params: NoParams,
  },
  disable_identity: {
    name: 'disable_identity', title: 'Disable the account so it cannot log in',
    targets: ['identity', 'sharing_identities', 'delegations'], params: NoParams,
  },
  enable_identity: { name: 'enable_identity', title: 'Enable the account again', targets: ['identity'], params: NoParams },
  quarantine: {
    name: 'quarantine', title: 'Suspend the identity\'s broker tokens and new issuance (reversible, self-expiring)',
    targets: ['identity', 'delegations', 'sharing_identities'],
    params: Type.Object({ ttl: Duration('1h', 'How long the quarantine lasts; at most 7d') }, { additionalProperties: false }),
  },
  remove_grant: {
    name: 'remove_grant', title: 'Remove the identity\'s grant on a resource',
    targets: ['identity'],
    params: Type.Object({
      resource: Type.String({ minLength: 1, maxLength: 300, description: 'Resource id, as the inventory or discovery names it' }),
      permissions: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Default: every permission of the grant' })),
    }, { additionalProperties: false }),
  },
  revoke_delegations: {
    name: 'revoke_delegations', title: 'Revoke the tokens the identity delegated and suspend its delegations',
    targets: ['identity'], params: NoParams,
  },
  notify_owner: {
    name: 'notify_owner', title: 'Route a task to the owning team and notify it',
    targets: ['identity', 'sharing_identities', 'delegations', 'none'],
    params: Type.Object({
      message: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
      team: Type.Optional(TeamId),
      task: Type.Optional(Type.Enum(['session_review', 'notify', 'investigate'], { default: 'notify' })),
    }, { additionalProperties: false }),
  },
  webhook: {
    name: 'webhook', title: 'Send a signed webhook',
    targets: ['none', 'identity'],
    params: Type.Object({
      url: Type.String({ format: 'uri', pattern: '^https?://' }),
      signingSecret: Type.String({ pattern: '^(env|file):.+', description: 'env:NAME or file:PATH reference to the HMAC key' }),
      event: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'cordon.playbook.step' })),
    }, { additionalProperties: false }),
  },
  raise_monitoring: {
    name: 'raise_monitoring', title: 'Watch the identity closely for a while',
    targets: ['identity', 'sharing_identities', 'delegations'],
    params: Type.Object({
      duration: Duration('24h', 'How long the watch lasts; at most 30d'),
      level: Type.Optional(Type.Enum(['raised', 'high'], { default: 'raised' })),
    }, { additionalProperties: false }),
  },
  snapshot_evidence: {
    name: 'snapshot_evidence', title: 'Snapshot the detection, its events and the blast radius as hashed evidence',
    targets: ['identity', 'none'],
    params: Type.Object({ depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 6, default: 3 })) }, { additionalProperties: false }),
  },
};
