import type { Db } from '../store/db.js';
import type { Inventory, IdentityInput } from './schema.js';

/**
 * The stored inventory as a document importing would reproduce: values are never exported
 * (Cordon does not have them), fingerprints are; sealed connector secrets stay sealed.
 */
export async function exportInventory(db: Db): Promise<Inventory> {
  const [teams, connectors, resources, identities, credentials, grants, edges] = await Promise.all([
    db.selectFrom('teams').selectAll().orderBy('id').execute(),
    db.selectFrom('connectors').selectAll().orderBy('id').execute(),
    db.selectFrom('resources').selectAll().orderBy('id').execute(),
    db.selectFrom('identities').selectAll().orderBy('id').execute(),
    db.selectFrom('credentials').selectAll().orderBy('id').execute(),
    db.selectFrom('grants').selectAll().orderBy('resourceId').execute(),
    db.selectFrom('edges').selectAll().where('kind', 'in', ['trusts', 'delegates_to', 'owned_by']).orderBy('id').execute(),
  ]);
  const byIdentity = <T extends { identityId: string }>(rows: T[]) => {
    const map = new Map<string, T[]>();
    for (const row of rows) map.set(row.identityId, [...(map.get(row.identityId) ?? []), row]);
    return map;
  };
  const credentialsOf = byIdentity(credentials);
  const grantsOf = byIdentity(grants);
  const ownersOf = new Map<string, NonNullable<IdentityInput['owners']>>();
  for (const e of edges.filter((e) => e.kind === 'owned_by')) {
    const owners = ownersOf.get(e.fromId) ?? { team: '' };
    if (e.attributes.role === 'backup') owners.backup = e.toId;
    else owners.team = e.toId;
    ownersOf.set(e.fromId, owners);
  }

  return {
    apiVersion: 'cordon/v1',
    kind: 'Inventory',
    teams: teams.map((t) => compact({ id: t.id, name: t.name, responsibility: t.responsibility as never, channel: t.channel })),
    connectors: connectors.map((c) => compact({ id: c.id, type: c.type, name: c.name, environment: c.environment, params: c.params })),
    resources: resources.map((r) => compact({
      id: r.id, kind: r.kind, name: r.name, environment: r.environment, criticality: r.criticality as never, attributes: nonEmpty(r.attributes),
    })),
    identities: identities.map((i) => compact({
      id: i.id, kind: i.kind as never, name: i.name, provider: i.provider as never, connector: i.connectorId,
      externalRef: i.externalRef, environment: i.environment, status: i.status as never, criticality: i.criticality as never,
      owners: ownersOf.get(i.id)?.team ? ownersOf.get(i.id) : undefined,
      tags: i.tags.length ? i.tags : undefined, schedule: (i.schedule ?? undefined) as IdentityInput['schedule'], attributes: nonEmpty(i.attributes),
      createdAt: iso(i.createdAt), lastUsedAt: iso(i.lastUsedAt),
      credentials: (credentialsOf.get(i.id) ?? []).map((c) => compact({
        id: c.id, name: c.name, type: c.type as never, fingerprint: c.fingerprint, externalRef: c.externalRef,
        status: c.status as never, createdAt: iso(c.createdAt), expiresAt: iso(c.expiresAt),
        lastRotatedAt: iso(c.lastRotatedAt), storedIn: (c.storedIn ?? undefined) as never, delivery: (c.delivery ?? undefined) as never,
      })),
      grants: (grantsOf.get(i.id) ?? []).map((g) => compact({
        resource: g.resourceId, permissions: g.permissions, grantedAt: iso(g.grantedAt), lastUsedAt: iso(g.lastUsedAt),
      })),
    })),
    edges: edges.filter((e) => e.kind !== 'owned_by').map((e) => {
      const { scope, ...attributes } = e.attributes as { scope?: string[] };
      return compact({ kind: e.kind as never, from: e.fromId, to: e.toId, scope, attributes: nonEmpty(attributes) });
    }),
  };
}

function iso(date: Date | null): string | undefined {
  return date ? date.toISOString() : undefined;
}

function nonEmpty(record: Record<string, unknown> | null): Record<string, unknown> | undefined {
  return record && Object.keys(record).length ? record : undefined;
}

/** Drops null and undefined fields, so the document validates against the schema. */
function compact<T extends Record<string, unknown>>(record: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined)) as never;
}
