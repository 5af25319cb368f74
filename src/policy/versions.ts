import { sql } from 'kysely';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../domain/roles.js';
import type { Db, Executor } from '../store/db.js';
import type { PolicyVersionRow } from '../store/schema.js';
import type { BundleInput } from './load.js';

/**
 * Policy versions in the store: each is a whole set (schema, policy documents, entities) as it
 * was loaded, numbered in order. The highest number is the one every process serves.
 */

export type VersionOrigin = 'files' | 'api';

export interface PolicyVersionSummary {
  version: number;
  digest: string;
  origin: VersionOrigin;
  policyIds: string[];
  documents: string[];
  comment: string | null;
  createdBy: string;
  createdAt: Date;
}

export interface PolicyVersion extends PolicyVersionSummary {
  input: BundleInput;
}

/** Serializes version numbering across processes; released when the transaction ends. */
const VERSION_LOCK_KEY = 0x706f6c79; // "poly"

export async function saveVersion(
  db: Db,
  actor: Actor,
  entry: { input: BundleInput; digest: string; origin: VersionOrigin; policyIds: string[]; comment?: string },
): Promise<PolicyVersion> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${VERSION_LOCK_KEY})`.execute(tx);
    const head = await tx.selectFrom('policyVersions').select(sql<number>`coalesce(max(version), 0)`.as('version')).executeTakeFirstOrThrow();
    const version = Number(head.version) + 1;
    const row = await tx.insertInto('policyVersions').values({
      version,
      digest: entry.digest,
      origin: entry.origin,
      schemaDocument: JSON.stringify(entry.input.schema),
      policyDocuments: JSON.stringify(entry.input.policies),
      entitiesDocument: entry.input.entities ? JSON.stringify(entry.input.entities) : null,
      policyIds: JSON.stringify(entry.policyIds),
      comment: entry.comment ?? null,
      createdBy: actor.id,
    }).returningAll().executeTakeFirstOrThrow();
    await appendAudit(tx, actor, {
      action: 'policy.version_loaded',
      subject: `policy-version:${version}`,
      payload: { version, origin: entry.origin, digest: entry.digest, policyCount: entry.policyIds.length, documents: entry.input.policies.map((d) => d.name), comment: entry.comment ?? null },
    });
    return toVersion(row);
  });
}

export async function latestVersion(db: Executor, origin?: VersionOrigin): Promise<PolicyVersion | undefined> {
  let query = db.selectFrom('policyVersions').selectAll().orderBy('version', 'desc').limit(1);
  if (origin) query = query.where('origin', '=', origin);
  const row = await query.executeTakeFirst();
  return row && toVersion(row);
}

export async function latestVersionNumber(db: Executor): Promise<number> {
  const row = await db.selectFrom('policyVersions').select(sql<number>`coalesce(max(version), 0)`.as('version')).executeTakeFirstOrThrow();
  return Number(row.version);
}

export async function getVersion(db: Executor, version: number): Promise<PolicyVersion | undefined> {
  const row = await db.selectFrom('policyVersions').selectAll().where('version', '=', version).executeTakeFirst();
  return row && toVersion(row);
}

export async function listVersions(db: Executor, filter: { before?: number; limit: number }): Promise<PolicyVersionSummary[]> {
  let query = db.selectFrom('policyVersions').selectAll().orderBy('version', 'desc').limit(filter.limit);
  if (filter.before !== undefined) query = query.where('version', '<', filter.before);
  return (await query.execute()).map((row) => {
    const { input: _, ...summary } = toVersion(row);
    return summary;
  });
}

function toVersion(row: PolicyVersionRow): PolicyVersion {
  const input: BundleInput = {
    schema: row.schemaDocument,
    policies: row.policyDocuments,
    entities: row.entitiesDocument ?? undefined,
  };
  return {
    version: row.version,
    digest: row.digest,
    origin: row.origin as VersionOrigin,
    policyIds: row.policyIds,
    documents: row.policyDocuments.map((d) => d.name),
    comment: row.comment,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    input,
  };
}
