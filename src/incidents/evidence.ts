import { sql } from 'kysely';
import { GENESIS_HASH, canonicalJson, digestPayload, sha256Hex } from '../audit/chain.js';
import { lockAuditChain } from '../audit/service.js';
import type { Executor, Tx } from '../store/db.js';
import type { EvidenceItemRow } from '../store/schema.js';

/**
 * Evidence items of an incident: each one's content is hashed, and each hash covers the previous
 * item's, so the items of an incident form a chain a third party can check from an export alone.
 * Contents come from what Cordon stores, where secrets are already replaced by fingerprints.
 */
export interface EvidenceItem {
  seq: number;
  id: string;
  incidentId: string;
  kind: string;
  title: string;
  ref: string | null;
  content: unknown;
  contentDigest: string;
  prevHash: string;
  hash: string;
  collectedBy: string;
  collectedAt: Date;
}

export interface NewEvidence {
  /** Stable: collecting the same item again (a retried step) keeps the first. */
  id: string;
  incidentId: string;
  kind: 'event' | 'detection' | 'snapshot' | 'action' | 'note' | 'blast_radius';
  title: string;
  ref?: string;
  content: unknown;
  collectedBy: string;
}

/** The fields an item's hash covers, in the form an export shows them. */
export function evidenceLink(item: Omit<EvidenceItem, 'content' | 'hash'>): string {
  return sha256Hex(canonicalJson({
    seq: item.seq, id: item.id, incidentId: item.incidentId, kind: item.kind, title: item.title, ref: item.ref,
    contentDigest: item.contentDigest, prevHash: item.prevHash, collectedBy: item.collectedBy, collectedAt: item.collectedAt.toISOString(),
  }));
}

/** Appends an item to its incident's chain in the caller's transaction; idempotent on `id`. */
export async function appendEvidence(tx: Tx, item: NewEvidence): Promise<EvidenceItem> {
  // Appends to an incident's chain take turns under the audit chain's lock (one lock order for all).
  await lockAuditChain(tx);
  const existing = await tx.selectFrom('evidenceItems').selectAll().where('id', '=', item.id).executeTakeFirst();
  if (existing) return toItem(existing);
  const head = await tx.selectFrom('evidenceItems').select(['hash']).where('incidentId', '=', item.incidentId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const { rows: [next] } = await sql<{ n: string }>`select nextval(pg_get_serial_sequence('evidence_items', 'seq')) as n`.execute(tx);
  // Stored as it will read back (JSON), so the digest is over exactly what is kept.
  const content = JSON.parse(JSON.stringify(item.content ?? null)) as unknown;
  const link = {
    seq: Number(next!.n), id: item.id, incidentId: item.incidentId, kind: item.kind, title: item.title, ref: item.ref ?? null,
    contentDigest: digestPayload(content), prevHash: head?.hash ?? GENESIS_HASH, collectedBy: item.collectedBy, collectedAt: new Date(),
  };
  const hash = evidenceLink(link);
  await tx.insertInto('evidenceItems').values({ ...link, content: JSON.stringify(content), hash }).execute();
  return { ...link, content, hash };
}

export async function listEvidence(db: Executor, incidentId: string): Promise<EvidenceItem[]> {
  return (await db.selectFrom('evidenceItems').selectAll().where('incidentId', '=', incidentId).orderBy('seq').execute()).map(toItem);
}

export interface EvidenceVerification {
  ok: boolean;
  checked: number;
  /** The first item that does not hold, and why. */
  firstBad?: { id: string; seq: number; reason: string };
}

/**
 * Recomputes every item's content digest and link: a changed content, a changed field, an item
 * removed from the middle or reordered is named. Works on stored rows or on an export's items.
 */
export function verifyEvidenceChain(items: readonly EvidenceItem[]): EvidenceVerification {
  let prev = GENESIS_HASH;
  let checked = 0;
  for (const item of items) {
    const bad = (reason: string) => ({ ok: false, checked, firstBad: { id: item.id, seq: item.seq, reason } });
    if (digestPayload(item.content) !== item.contentDigest) return bad('its content does not match its digest');
    if (item.prevHash !== prev) return bad('it does not link to the item before it');
    if (evidenceLink(item) !== item.hash) return bad('its fields do not match its hash');
    prev = item.hash;
    checked++;
  }
  return { ok: true, checked };
}

export async function verifyEvidence(db: Executor, incidentId: string): Promise<EvidenceVerification> {
  return verifyEvidenceChain(await listEvidence(db, incidentId));
}

function toItem(row: EvidenceItemRow): EvidenceItem {
  return { ...row, seq: Number(row.seq), collectedAt: new Date(row.collectedAt) };
}
