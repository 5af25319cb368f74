import type { Static } from 'typebox';
import { InvalidInputError, type Issue } from '../domain/errors.js';
import { validator } from '../domain/validation.js';
import { connectorType, isConnectorType, CONNECTOR_TYPES } from '../connectors/registry.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import {
  ConnectorSpec, EdgeSpec, IdentitySpec, InventorySpec, ResourceSpec, TeamSpec, type CredentialInput,
} from './schema.js';
import type { InventorySource } from './source.js';

/** Where an item was declared, so later checks (references) can point at it. */
export interface Origin {
  source: InventorySource;
  path: string;
}

export interface Located<T> {
  item: T;
  origin: Origin;
}

/** A credential ready to store: its value already replaced by the fingerprint. */
export type PlannedCredential = Omit<CredentialInput, 'value'> & { id: string; fingerprint?: string };
export type PlannedIdentity = Omit<Static<typeof IdentitySpec>, 'credentials'> & { credentials: PlannedCredential[] };

/** The union of every source, validated field by field; references are checked at import. */
export interface InventoryPlan {
  teams: Located<Static<typeof TeamSpec>>[];
  connectors: Located<Static<typeof ConnectorSpec>>[];
  resources: Located<Static<typeof ResourceSpec>>[];
  identities: Located<PlannedIdentity>[];
  edges: Located<Static<typeof EdgeSpec>>[];
}

const inventoryDocument = validator(InventorySpec);

export function issueAt(origin: Origin, field: string, message: string): Issue {
  const path = field ? `${origin.path}/${field}` : origin.path;
  return { path, source: origin.source.locate(path), message };
}

/**
 * Validates every source and merges them. Plaintext credential values are fingerprinted here
 * and do not go further. Throws one `InvalidInputError` listing every problem found.
 */
export function planInventory(sources: InventorySource[], fingerprint: Fingerprinter): InventoryPlan {
  const plan: InventoryPlan = { teams: [], connectors: [], resources: [], identities: [], edges: [] };
  const issues: Issue[] = [];
  for (const source of sources) {
    const found = inventoryDocument.issues(source.document);
    if (found.length) {
      issues.push(...found.map((i) => ({ ...i, source: source.locate(i.path) })));
      continue;
    }
    const doc = source.document as Static<typeof InventorySpec>;
    const at = (path: string): Origin => ({ source, path });
    doc.teams?.forEach((item, i) => plan.teams.push({ item, origin: at(`/teams/${i}`) }));
    doc.resources?.forEach((item, i) => plan.resources.push({ item, origin: at(`/resources/${i}`) }));
    doc.edges?.forEach((item, i) => plan.edges.push({ item, origin: at(`/edges/${i}`) }));
    doc.connectors?.forEach((item, i) => {
      const origin = at(`/connectors/${i}`);
      issues.push(...connectorIssues(item, origin));
      plan.connectors.push({ item, origin });
    });
    doc.identities?.forEach((identity, i) => {
      const origin = at(`/identities/${i}`);
      const credentials = (identity.credentials ?? []).map((credential, j) => {
        const { value, ...rest } = credential;
        if (value !== undefined && credential.fingerprint !== undefined) {
          issues.push(issueAt(origin, `credentials/${j}/fingerprint`, 'give value or fingerprint, not both'));
        }
        return { ...rest, id: credential.id ?? `${identity.id}/${credential.name}`, fingerprint: value !== undefined ? fingerprint(value) : credential.fingerprint };
      });
      plan.identities.push({ item: { ...identity, credentials }, origin });
    });
  }
  issues.push(...duplicateIssues(plan));
  if (issues.length) throw inventoryError(issues);
  return plan;
}

function connectorIssues(connector: Static<typeof ConnectorSpec>, origin: Origin): Issue[] {
  if (!isConnectorType(connector.type)) {
    return [issueAt(origin, 'type', `must be one of: ${CONNECTOR_TYPES.join(', ')}`)];
  }
  return validator(connectorType(connector.type).params)
    .issues(connector.params)
    .map((i) => issueAt(origin, `params${i.path}`, i.message));
}

function duplicateIssues(plan: InventoryPlan): Issue[] {
  const issues: Issue[] = [];
  const check = <T>(items: Located<T>[], idOf: (t: T) => string, field: string) => {
    const seen = new Map<string, Origin>();
    for (const { item, origin } of items) {
      const id = idOf(item);
      const first = seen.get(id);
      if (first) issues.push(issueAt(origin, field, `"${id}" is declared twice (first at ${first.source.locate(first.path)})`));
      else seen.set(id, origin);
    }
  };
  check(plan.teams, (t) => t.id, 'id');
  check(plan.connectors, (c) => c.id, 'id');
  check(plan.resources, (r) => r.id, 'id');
  check(plan.identities, (i) => i.id, 'id');
  const credentials = plan.identities.flatMap(({ item, origin }) =>
    item.credentials.map((c, j) => ({ item: c, origin: { ...origin, path: `${origin.path}/credentials/${j}` } })));
  check(credentials, (c) => c.id, 'id');
  check(plan.edges, (e) => `${e.kind} ${e.from} → ${e.to}`, 'to');
  for (const { item, origin } of plan.identities) {
    if (item.owners?.backup === item.owners?.team && item.owners?.backup !== undefined) {
      issues.push(issueAt(origin, 'owners/backup', 'must differ from owners/team'));
    }
    const grants = (item.grants ?? []).map((g, j) => ({ item: g, origin: { ...origin, path: `${origin.path}/grants/${j}` } }));
    check(grants, (g) => g.resource, 'resource');
  }
  return issues;
}

export function inventoryError(issues: Issue[]): InvalidInputError {
  const lines = issues.map((i) => `${i.source ?? ''} ${i.path}: ${i.message}`.trim());
  return new InvalidInputError('ERR_INVENTORY_INVALID', `inventory is invalid:\n${lines.join('\n')}`, issues);
}
