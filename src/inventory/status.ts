import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import { NotFoundError } from '../domain/errors.js';
import type { IdentityStatus } from '../domain/identity.js';
import type { Actor } from '../domain/roles.js';
import type { Tx } from '../store/db.js';

/**
 * Sets an identity's status (containment disables or quarantines it, recovery makes it active),
 * audited in the caller's transaction. Setting the status it already has changes nothing and
 * records nothing. Returns the status it had.
 */
export async function setIdentityStatus(tx: Tx, identityId: string, status: IdentityStatus, actor: Actor, reason: string): Promise<IdentityStatus> {
  const row = await tx.selectFrom('identities').select('status').where('id', '=', identityId).forUpdate().executeTakeFirst();
  if (!row) throw new NotFoundError('ERR_IDENTITY_NOT_FOUND', `identity "${identityId}" does not exist`);
  const previous = row.status as IdentityStatus;
  if (previous === status) return previous;
  await tx.updateTable('identities').set({ status, updatedAt: sql`now()` as never }).where('id', '=', identityId).execute();
  await appendAudit(tx, actor, { action: 'identity.status_changed', subject: `identity:${identityId}`, payload: { from: previous, to: status, reason } });
  return previous;
}
