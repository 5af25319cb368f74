import type { Criticality, IdentityKind, IdentityStatus } from './identity.js';

/**
 * Edges of the identity graph (SPEC §2). Some are stored as rows of `edges` (the relations an
 * inventory declares); the others are read from the entity tables they already live in, so
 * there is one truth for each:
 *   uses            credentials.identity_id          identity → credential
 *   stored_in       credentials.stored_in            credential → location
 *   issued_to       sessions.identity_id             session → identity
 *   derived_from    sessions.parent_session_id       session → session
 *   accesses        grants                           identity → resource
 *   shares_credential  equal credential fingerprints  identity ↔ identity (derived)
 */
export const STORED_EDGE_KINDS = ['trusts', 'delegates_to', 'owned_by'] as const;
export type StoredEdgeKind = (typeof STORED_EDGE_KINDS)[number];

export const EDGE_KINDS = [
  ...STORED_EDGE_KINDS, 'uses', 'stored_in', 'issued_to', 'derived_from', 'accesses', 'shares_credential',
] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

export const NODE_TYPES = ['identity', 'credential', 'session', 'resource', 'team', 'location'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface NodeRef {
  type: NodeType;
  id: string;
}

export interface GraphEdge {
  kind: EdgeKind;
  from: NodeRef;
  to: NodeRef;
  attributes: Record<string, unknown>;
}

/** Why a node is in a blast radius: the edge that reached it and from where. */
export interface BlastRadiusNode extends NodeRef {
  depth: number;
  via: EdgeKind | 'start';
  from?: NodeRef;
  label: string;
}

export interface ReachableResource {
  id: string;
  name: string;
  criticality: Criticality;
  /** Union of permissions over every identity in the radius that reaches the resource. */
  permissions: string[];
  through: string[];
}

/** A consumer that stops working if the starting identity or credential is revoked. */
export interface Consumer {
  identityId: string;
  name: string;
  kind: IdentityKind;
  status: IdentityStatus;
  relation: 'trusts' | 'shares_credential' | 'delegates_to';
  criticality: Criticality;
  customerFacing: boolean;
}

export interface BlastRadius {
  start: NodeRef;
  depth: number;
  truncated: boolean;
  nodes: BlastRadiusNode[];
  identities: string[];
  credentials: string[];
  /** Active, unexpired sessions and tokens: permissions cached until they expire. */
  sessions: string[];
  resources: ReachableResource[];
  revocationImpact: {
    consumers: Consumer[];
    /** True when no consumer is high/critical or customer-facing. */
    safeToRevoke: boolean;
    highestCriticality: Criticality | null;
  };
}
