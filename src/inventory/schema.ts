import Type, { type Static } from 'typebox';
import {
  CREDENTIAL_STATUSES, CREDENTIAL_TYPES, CRITICALITIES, IDENTITY_KINDS, IDENTITY_STATUSES, PROVIDERS,
  STORAGE_KINDS, TEAM_RESPONSIBILITIES,
} from '../domain/identity.js';
import { DeliverySpec } from '../domain/delivery.js';

/**
 * The declarative inventory (SPEC §3.1). `schemas/inventory.schema.json` is generated from this
 * (`npm run schemas`) and a test keeps the two equal.
 */

const Id = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/@-]*$', description: 'Stable id: letters, digits and . _ : / @ -' });
const Name = Type.String({ minLength: 1, maxLength: 300 });
const Timestamp = Type.String({ format: 'date-time' });
const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9._-]*$' });

export const TeamSpec = Type.Object({
  id: Id,
  name: Name,
  responsibility: Type.Enum(TEAM_RESPONSIBILITIES),
  channel: Type.Optional(Type.String({ maxLength: 500, description: 'Where notifications go: a webhook URL, a chat channel or an address' })),
}, { additionalProperties: false });

export const ConnectorSpec = Type.Object({
  id: Id,
  type: Type.String({ minLength: 1, description: 'A connector type Cordon knows (postgres, …)' }),
  name: Type.Optional(Name),
  environment: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Environment of the identities it discovers' })),
  params: Type.Record(Type.String(), Type.Unknown(), {
    description: 'Typed by the connector type. A secret parameter is `env:NAME`, `file:PATH`, or a value that is sealed on import.',
  }),
}, { additionalProperties: false });

export const ResourceSpec = Type.Object({
  id: Id,
  kind: Type.String({ minLength: 1, maxLength: 100, description: 'database, bucket, queue, api, cluster …' }),
  name: Name,
  environment: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  criticality: Type.Optional(Type.Enum(CRITICALITIES)),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { additionalProperties: false });

export const CredentialSpec = Type.Object({
  id: Type.Optional(Id),
  name: Name,
  type: Type.Enum(CREDENTIAL_TYPES),
  value: Type.Optional(Type.String({ minLength: 1, description: 'Plaintext: fingerprinted on import and never stored' })),
  fingerprint: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'HMAC-SHA256 under this deployment\'s key' })),
  externalRef: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'The id the provider shows (an AWS access key id, a key name)' })),
  status: Type.Optional(Type.Enum(CREDENTIAL_STATUSES)),
  createdAt: Type.Optional(Timestamp),
  expiresAt: Type.Optional(Timestamp),
  lastRotatedAt: Type.Optional(Timestamp),
  storedIn: Type.Optional(Type.Object({
    kind: Type.Enum(STORAGE_KINDS),
    path: Type.String({ minLength: 1, maxLength: 500 }),
  }, { additionalProperties: false })),
  /** Where Cordon delivers the new value when it rotates this credential; a file in the delivery directory by default. */
  delivery: Type.Optional(DeliverySpec),
}, { additionalProperties: false });

export const GrantSpec = Type.Object({
  resource: Id,
  permissions: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1 }),
  grantedAt: Type.Optional(Timestamp),
  lastUsedAt: Type.Optional(Timestamp),
}, { additionalProperties: false });

export const ScheduleSpec = Type.Object({
  timezone: Type.String({ minLength: 1, description: 'IANA time zone, e.g. Europe/Paris' }),
  days: Type.Array(Type.Enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), { minItems: 1 }),
  hours: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$', description: 'HH:MM-HH:MM' }),
}, { additionalProperties: false });

export const IdentitySpec = Type.Object({
  id: Id,
  kind: Type.Enum(IDENTITY_KINDS),
  name: Name,
  provider: Type.Enum(PROVIDERS),
  connector: Type.Optional(Id),
  externalRef: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
  environment: Type.String({ minLength: 1, maxLength: 100 }),
  status: Type.Optional(Type.Enum(IDENTITY_STATUSES)),
  criticality: Type.Optional(Type.Enum(CRITICALITIES)),
  owners: Type.Optional(Type.Object({
    team: Id,
    backup: Type.Optional(Id),
  }, { additionalProperties: false })),
  tags: Type.Optional(Type.Array(Tag, { uniqueItems: true })),
  schedule: Type.Optional(ScheduleSpec),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Type.Optional(Timestamp),
  lastUsedAt: Type.Optional(Timestamp),
  credentials: Type.Optional(Type.Array(CredentialSpec)),
  grants: Type.Optional(Type.Array(GrantSpec)),
}, { additionalProperties: false });

export const EdgeSpec = Type.Object({
  kind: Type.Enum(['trusts', 'delegates_to']),
  from: Id,
  to: Id,
  scope: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { additionalProperties: false, description: 'trusts: a workload (from) trusts an identity (to). delegates_to: from delegates authority to to, within scope.' });

export const InventorySpec = Type.Object({
  apiVersion: Type.Literal('cordon/v1'),
  kind: Type.Literal('Inventory'),
  teams: Type.Optional(Type.Array(TeamSpec)),
  connectors: Type.Optional(Type.Array(ConnectorSpec)),
  resources: Type.Optional(Type.Array(ResourceSpec)),
  identities: Type.Optional(Type.Array(IdentitySpec)),
  edges: Type.Optional(Type.Array(EdgeSpec)),
}, { additionalProperties: false, title: 'Cordon inventory' });

export type Inventory = Static<typeof InventorySpec>;
export type IdentityInput = Static<typeof IdentitySpec>;
export type CredentialInput = Static<typeof CredentialSpec>;
