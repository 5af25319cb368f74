import { appendAudit } from '../audit/service.js';
import { connectorType } from '../connectors/registry.js';
import { sealSecretParams } from '../connectors/secret-params.js';
import type { Issue } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { Db, Tx } from '../store/db.js';
import { upsertRows, type UpsertCounts } from '../store/upsert.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import { inventoryError, issueAt, planInventory, type InventoryPlan, type Located, type Origin } from './plan.js';
import type { InventorySource } from './source.js';

export type ImportSummary = Record<'teams' | 'connectors' | 'resources' | 'identities' | 'credentials' | 'grants' | 'edges', UpsertCounts>;

export interface InventoryImporterDeps {
  db: Db;
  fingerprint: Fingerprinter;
  sealer: Pick<Sealer, 'seal'>;
}

/**
 * Imports inventory sources all or nothing: every source is validated, every reference checked
 * (against the sources and what is already stored), then everything is upserted and audited in
 * one transaction. Absent fields are left as stored; an identity's `owners` and its inventory
 * grants are replaced by what it declares.
 */
export function inventoryImporter(deps: InventoryImporterDeps) {
  async function importSources(sources: InventorySource[], actor: Actor): Promise<ImportSummary> {
    const plan = planInventory(sources, deps.fingerprint);
    const connectors = await Promise.all(plan.connectors.map(async ({ item }) => ({
      id: item.id,
      type: item.type,
      name: item.name,
      environment: item.environment,
      params: JSON.stringify(await sealSecretParams(connectorType(item.type).params, item.params, deps.sealer)),
    })));
    return deps.db.transaction().execute(async (tx) => {
      await checkReferences(tx, plan);
      const summary = await writePlan(tx, plan, connectors);
      await appendAudit(tx, actor, {
        action: 'inventory.imported',
        subject: 'inventory',
        payload: { sources: sources.map((s) => s.file), summary },
      });
      return summary;
    });
  }
  return { importSources };
}

async function writePlan(tx: Tx, plan: InventoryPlan, connectors: Record<string, unknown>[]): Promise<ImportSummary> {
  const identities = plan.identities.map((l) => l.item);
  const teams = await upsertRows(tx, 'teams', plan.teams.map(({ item }) => ({ ...item })), ['id']);
  const connectorCounts = await upsertRows(tx, 'connectors', connectors, ['id']);
  const resources = await upsertRows(tx, 'resources', plan.resources.map(({ item }) => ({
    id: item.id, kind: item.kind, name: item.name, environment: item.environment, criticality: item.criticality,
    attributes: item.attributes && JSON.stringify(item.attributes), source: 'inventory',
  })), ['id']);
  const identityCounts = await upsertRows(tx, 'identities', identities.map((i) => ({
    id: i.id, kind: i.kind, name: i.name, provider: i.provider, connectorId: i.connector, externalRef: i.externalRef,
    environment: i.environment, status: i.status, criticality: i.criticality, tags: i.tags,
    schedule: i.schedule && JSON.stringify(i.schedule), attributes: i.attributes && JSON.stringify(i.attributes),
    createdAt: i.createdAt, lastUsedAt: i.lastUsedAt, source: 'inventory',
  })), ['id']);
  const credentials = await upsertRows(tx, 'credentials', identities.flatMap((i) => i.credentials.map((c) => ({
    id: c.id, identityId: i.id, name: c.name, type: c.type, fingerprint: c.fingerprint, externalRef: c.externalRef,
    status: c.status, storedIn: c.storedIn && JSON.stringify(c.storedIn), delivery: c.delivery && JSON.stringify(c.delivery), createdAt: c.createdAt,
    expiresAt: c.expiresAt, lastRotatedAt: c.lastRotatedAt,
  }))), ['id']);
  const grants = await replaceGrants(tx, identities);
  const edges = await replaceOwners(tx, identities);
  const declared = await upsertRows(tx, 'edges', plan.edges.map(({ item }) => ({
    kind: item.kind, fromType: 'identity', fromId: item.from, toType: 'identity', toId: item.to,
    attributes: JSON.stringify({ ...item.attributes, ...(item.scope ? { scope: item.scope } : {}) }), source: 'inventory',
  })), ['kind', 'fromId', 'toId']);
  return {
    teams, connectors: connectorCounts, resources, identities: identityCounts, credentials, grants,
    edges: sumCounts(edges, declared),
  };
}

async function replaceGrants(tx: Tx, identities: InventoryPlan['identities'][number]['item'][]): Promise<UpsertCounts> {
  const declaring = identities.filter((i) => i.grants !== undefined);
  if (declaring.length === 0) return { created: 0, updated: 0, unchanged: 0 };
  const rows = declaring.flatMap((i) => (i.grants ?? []).map((g) => ({
    id: `${i.id}->${g.resource}`, identityId: i.id, resourceId: g.resource, permissions: [...g.permissions].sort(),
    grantedAt: g.grantedAt, lastUsedAt: g.lastUsedAt, source: 'inventory',
  })));
  const counts = await upsertRows(tx, 'grants', rows, ['id']);
  const keep = new Set(rows.map((r) => r.id));
  const stale = await tx.selectFrom('grants').select('id')
    .where('identityId', 'in', declaring.map((i) => i.id)).where('source', '=', 'inventory').execute();
  const removed = stale.map((g) => g.id).filter((id) => !keep.has(id));
  if (removed.length) await tx.deleteFrom('grants').where('id', 'in', removed).execute();
  return { ...counts, updated: counts.updated + removed.length };
}

async function replaceOwners(tx: Tx, identities: InventoryPlan['identities'][number]['item'][]): Promise<UpsertCounts> {
  const declaring = identities.filter((i) => i.owners !== undefined);
  if (declaring.length === 0) return { created: 0, updated: 0, unchanged: 0 };
  const rows = declaring.flatMap((i) => [
    { team: i.owners!.team, role: 'primary' },
    ...(i.owners!.backup ? [{ team: i.owners!.backup, role: 'backup' }] : []),
  ].map((o) => ({
    kind: 'owned_by', fromType: 'identity', fromId: i.id, toType: 'team', toId: o.team,
    attributes: JSON.stringify({ role: o.role }), source: 'inventory',
  })));
  const counts = await upsertRows(tx, 'edges', rows, ['kind', 'fromId', 'toId']);
  const keep = new Set(rows.map((r) => `${r.fromId}\u0000${r.toId}`));
  const current = await tx.selectFrom('edges').select(['id', 'fromId', 'toId'])
    .where('kind', '=', 'owned_by').where('fromId', 'in', declaring.map((i) => i.id)).execute();
  const removed = current.filter((e) => !keep.has(`${e.fromId}\u0000${e.toId}`)).map((e) => e.id);
  if (removed.length) await tx.deleteFrom('edges').where('id', 'in', removed).execute();
  return { ...counts, updated: counts.updated + removed.length };
}

/** Every id an item refers to must be declared in the sources or already stored. */
async function checkReferences(tx: Tx, plan: InventoryPlan): Promise<void> {
  const refs: { table: 'teams' | 'connectors' | 'resources' | 'identities'; id: string; origin: Origin; field: string }[] = [];
  for (const { item, origin } of plan.identities) {
    if (item.owners) refs.push({ table: 'teams', id: item.owners.team, origin, field: 'owners/team' });
    if (item.owners?.backup) refs.push({ table: 'teams', id: item.owners.backup, origin, field: 'owners/backup' });
    if (item.connector) refs.push({ table: 'connectors', id: item.connector, origin, field: 'connector' });
    item.grants?.forEach((g, j) => refs.push({ table: 'resources', id: g.resource, origin, field: `grants/${j}/resource` }));
  }
  for (const { item, origin } of plan.edges) {
    refs.push({ table: 'identities', id: item.from, origin, field: 'from' });
    refs.push({ table: 'identities', id: item.to, origin, field: 'to' });
  }
  const declared = {
    teams: ids(plan.teams), connectors: ids(plan.connectors), resources: ids(plan.resources), identities: ids(plan.identities),
  };
  const issues: Issue[] = [];
  for (const table of ['teams', 'connectors', 'resources', 'identities'] as const) {
    const wanted = [...new Set(refs.filter((r) => r.table === table && !declared[table].has(r.id)).map((r) => r.id))];
    const stored = new Set(wanted.length
      ? (await tx.selectFrom(table).select('id').where('id', 'in', wanted).execute()).map((r) => r.id)
      : []);
    for (const ref of refs) {
      if (ref.table === table && !declared[table].has(ref.id) && !stored.has(ref.id)) {
        issues.push(issueAt(ref.origin, ref.field, `refers to ${ENTITY_NAMES[table]} "${ref.id}", which is not declared`));
      }
    }
  }
  issues.push(...await externalRefClashes(tx, plan));
  if (issues.length) throw inventoryError(issues);
}

/** An identity may not claim a provider account another stored identity already stands for. */
async function externalRefClashes(tx: Tx, plan: InventoryPlan): Promise<Issue[]> {
  const claiming = plan.identities.filter(({ item }) => item.externalRef);
  if (claiming.length === 0) return [];
  const stored = await tx.selectFrom('identities').select(['id', 'provider', 'connectorId', 'externalRef'])
    .where('externalRef', 'in', claiming.map(({ item }) => item.externalRef!)).execute();
  const owner = new Map(stored.map((s) => [`${s.provider}\u0000${s.connectorId ?? ''}\u0000${s.externalRef}`, s.id]));
  return claiming.flatMap(({ item, origin }) => {
    const existing = owner.get(`${item.provider}\u0000${item.connector ?? ''}\u0000${item.externalRef}`);
    return existing && existing !== item.id
      ? [issueAt(origin, 'externalRef', `"${item.externalRef}" is already identity "${existing}"; use that id`)]
      : [];
  });
}

const ENTITY_NAMES = { teams: 'team', connectors: 'connector', resources: 'resource', identities: 'identity' } as const;

function ids(items: Located<{ id: string }>[]): Set<string> {
  return new Set(items.map((l) => l.item.id));
}

function sumCounts(a: UpsertCounts, b: UpsertCounts): UpsertCounts {
  return { created: a.created + b.created, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged };
}

