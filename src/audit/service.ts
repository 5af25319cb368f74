import { sql } from 'kysely';
import { CordonError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Db, Tx } from '../store/db.js';
import type { AuditRow } from '../store/schema.js';
import { GENESIS_HASH, digestPayload, linkHash } from './chain.js';

export interface AuditEntry {
  /** What happened, `area.verb`: `inventory.imported`, `token.created` … */
  action: string;
  /** What it happened to: `identity:svc-x`, `token:abc` … */
  subject: string;
  payload: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  at: Date;
  actor: string;
  actorSubject: string;
  action: string;
  subject: string;
  payload: Record<string, unknown>;
  payloadDigest: string;
  prevHash: string;
  hash: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number | null;
  headHash: string;
  firstBad?: { seq: number; reason: string };
}

/** Serializes appends across transactions and processes; released when the transaction ends. */
const AUDIT_LOCK_KEY = 0x636f7264; // "cord"

/**
 * Takes the chain's lock until the transaction ends. Other chains (an incident's evidence) take
 * this same lock before writing, so every transaction takes its locks in one order and two
 * writers never wait for each other in a circle.
 */
export async function lockAuditChain(tx: Tx): Promise<void> {
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(tx);
}

/** Field names that would mean a secret is being written into the chain. */
const SECRET_KEYS = new Set(['value', 'password', 'plaintext', 'secret', 'clientsecret', 'privatekey']);

/**
 * Appends to the hash chain inside the caller's transaction, so the record commits or rolls
 * back with the change it describes. Takes the transaction (not the database) on purpose.
 */
export async function appendAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<AuditRecord> {
  assertNoSecret(entry.payload, '');
  await lockAuditChain(tx);
  const head = await tx.selectFrom('auditLog').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const seq = head ? Number(head.seq) + 1 : 1;
  const at = new Date();
  const link = {
    seq,
    at,
    actor: actor.id,
    actorSubject: actor.subject,
    action: entry.action,
    subject: entry.subject,
    payloadDigest: digestPayload(entry.payload),
    prevHash: head?.hash ?? GENESIS_HASH,
  };
  const hash = linkHash(link);
  await tx.insertInto('auditLog').values({ ...link, payload: JSON.stringify(entry.payload), hash }).execute();
  return { ...link, payload: entry.payload, hash };
}

export async function listAudit(
  db: Db,
  filter: { afterSeq?: number; limit: number; action?: string; subject?: string },
): Promise<AuditRecord[]> {
  let query = db.selectFrom('auditLog').selectAll().orderBy('seq', 'asc').limit(filter.limit);
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.subject) query = query.where('subject', '=', filter.subject);
  return (await query.execute()).map(toRecord);
}

/**
 * Walks the whole chain and names the first row that does not hold: a changed payload, a
 * changed field, a broken link or a missing sequence number. Truncating the tail cannot be
 * seen from inside; compare `headHash` with a copy kept elsewhere.
 */
export async function verifyAudit(db: Db, batchSize = 5000): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const rows = await db
      .selectFrom('auditLog')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq', 'asc')
      .limit(batchSize)
      .execute();
    for (const row of rows) {
      const record = toRecord(row);
      const reason = checkRow(record, expectedSeq, prevHash);
      if (reason) {
        // A gap names the missing sequence number; anything else names the row itself.
        const seq = Math.min(record.seq, expectedSeq);
        return { ok: false, checked, headSeq: checked ? expectedSeq - 1 : null, headHash: prevHash, firstBad: { seq, reason } };
      }
      prevHash = record.hash;
      expectedSeq++;
      checked++;
    }
    if (rows.length < batchSize) break;
  }
  return { ok: true, checked, headSeq: checked ? expectedSeq - 1 : null, headHash: prevHash };
}

function checkRow(record: AuditRecord, expectedSeq: number, prevHash: string): string | undefined {
  if (record.seq !== expectedSeq) return `sequence ${expectedSeq} is missing (next row is ${record.seq})`;
  if (record.prevHash !== prevHash) return 'prev_hash does not match the hash of the row before';
  if (digestPayload(record.payload) !== record.payloadDigest) return 'payload does not match payload_digest';
  if (linkHash(record) !== record.hash) return 'hash does not match the row\'s fields';
  return undefined;
}

function toRecord(row: AuditRow): AuditRecord {
  return { ...row, seq: Number(row.seq), payload: row.payload ?? {} };
}

function assertNoSecret(value: unknown, path: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    if (SECRET_KEYS.has(key.toLowerCase().replace(/[_-]/g, '')) && typeof child === 'string') {
      throw new CordonError('ERR_AUDIT_SECRET', `refusing to write a secret-looking field ${path}/${key} into the audit chain`);
    }
    assertNoSecret(child, `${path}/${key}`);
  }
}
