/** The vocabulary of SPEC §2, as values (for schemas) and types (for code). */

export const IDENTITY_KINDS = [
  'service_account', 'api_key', 'oauth_app', 'workload', 'ai_agent',
  'ci_token', 'db_role', 'certificate', 'bot',
] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export const PROVIDERS = [
  'postgres', 'mariadb', 'redis', 'rabbitmq', 'cordon', 'aws', 'github', 'kubernetes', 'generic',
] as const;
export type Provider = (typeof PROVIDERS)[number];

export const IDENTITY_STATUSES = ['active', 'quarantined', 'disabled', 'offboarded'] as const;
export type IdentityStatus = (typeof IDENTITY_STATUSES)[number];

export const CREDENTIAL_TYPES = [
  'password', 'api_key', 'token', 'private_key', 'client_secret', 'certificate',
] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export const CREDENTIAL_STATUSES = ['active', 'rotated', 'revoked'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

export const SESSION_STATUSES = ['active', 'ended', 'revoked', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const TEAM_RESPONSIBILITIES = ['soc', 'iam', 'platform', 'app'] as const;
export type TeamResponsibility = (typeof TEAM_RESPONSIBILITIES)[number];

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

export const STORAGE_KINDS = ['vault', 'ci_secret', 'file', 'env', 'kubernetes_secret', 'cloud_secret', 'other'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** Tags with a meaning to Cordon itself (guards in playbooks read them). */
export const TAG_CUSTOMER_FACING = 'customer-facing';
export const TAG_SHARED = 'shared';

export function criticalityRank(c: Criticality): number {
  return CRITICALITIES.indexOf(c);
}
