import type { OwaspNhiItem } from '../domain/detection.js';

/** What should change so this does not happen again, read from the identity's state after the incident. */
export interface Recommendation {
  code: 'move_to_broker' | 'remove_unused_grants' | 'split_shared_credential' | 'assign_owner' | 'add_connector' | 'set_expiry';
  identityId: string;
  title: string;
  detail: string;
  owaspNhi: OwaspNhiItem[];
}

export interface IdentityState {
  id: string;
  provider: string;
  connectorId: string | null;
  owners: unknown[];
  credentials: { id: string; type: string; status: string; createdAt: Date; lastRotatedAt: Date | null; expiresAt: Date | null; sharedWith: string[] }[];
  grants: { resourceId: string; lastUsedAt: Date | null; permissions: string[] }[];
}

const LONG_LIVED_DAYS = 90;
const UNUSED_DAYS = 90;
const STATIC_TYPES = new Set(['password', 'api_key', 'client_secret', 'private_key']);

export function recommendationsFor(identity: IdentityState, now = Date.now()): Recommendation[] {
  const out: Recommendation[] = [];
  const days = (d: Date) => Math.floor((now - new Date(d).getTime()) / 86_400_000);
  const live = identity.credentials.filter((c) => c.status === 'active');
  const longLived = live.filter((c) => STATIC_TYPES.has(c.type) && (c.expiresAt === null || days(c.lastRotatedAt ?? c.createdAt) > LONG_LIVED_DAYS));
  if (longLived.length && identity.provider !== 'cordon') {
    out.push({
      code: 'move_to_broker', identityId: identity.id, owaspNhi: ['NHI7'],
      title: 'Move to short-lived credentials from the broker',
      detail: `${longLived.map((c) => c.id).join(', ')} ${longLived.length === 1 ? 'is a static secret' : 'are static secrets'} without expiry or older than ${LONG_LIVED_DAYS} days: let the workload exchange its own identity for task-bound tokens (or a temporary database role) instead.`,
    });
  }
  const noExpiry = live.filter((c) => c.expiresAt === null && STATIC_TYPES.has(c.type));
  if (noExpiry.length && !longLived.length) {
    out.push({ code: 'set_expiry', identityId: identity.id, owaspNhi: ['NHI7'], title: 'Give the credential an expiry', detail: `${noExpiry.map((c) => c.id).join(', ')} never expire.` });
  }
  const unused = identity.grants.filter((g) => g.lastUsedAt === null || days(g.lastUsedAt) > UNUSED_DAYS);
  if (unused.length) {
    out.push({
      code: 'remove_unused_grants', identityId: identity.id, owaspNhi: ['NHI5'],
      title: 'Remove unused grants',
      detail: `Not used in ${UNUSED_DAYS} days (or never): ${unused.map((g) => `${g.resourceId} (${g.permissions.join(', ')})`).join('; ')}.`,
    });
  }
  const shared = [...new Set(live.flatMap((c) => c.sharedWith))];
  if (shared.length) {
    out.push({
      code: 'split_shared_credential', identityId: identity.id, owaspNhi: ['NHI9'],
      title: 'Split the shared credential',
      detail: `The same secret is held by ${shared.join(', ')}: give each identity its own, so one leak (and one rotation) touches one consumer.`,
    });
  }
  if (identity.owners.length === 0) {
    out.push({ code: 'assign_owner', identityId: identity.id, owaspNhi: ['NHI1'], title: 'Assign an owning team', detail: 'Nobody owns this identity: tasks and notifications had nowhere to go.' });
  }
  if (!identity.connectorId && identity.provider !== 'cordon') {
    out.push({ code: 'add_connector', identityId: identity.id, owaspNhi: ['NHI2'], title: 'Connect its system', detail: `No connector can rotate or disable it on ${identity.provider}: containment needed people.` });
  }
  return out;
}
