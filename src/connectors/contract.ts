import type { Static, TObject } from 'typebox';
import type { IdentityKind, Provider } from '../domain/identity.js';

/**
 * The contract every connector implements (one folder per target system under `connectors/`,
 * registered in `registry.ts`). A connector declares what it can do and to which kinds of
 * identity; the response engine and discovery only call what is declared.
 */
export const CONNECTOR_CAPABILITIES = ['discover'] as const;
export type ConnectorCapability = (typeof CONNECTOR_CAPABILITIES)[number];

export interface ConnectorType<P extends TObject = TObject> {
  type: string;
  provider: Provider;
  title: string;
  /** Parameter schema; secret parameters are marked with `secretParam()`. */
  params: P;
  capabilities: readonly ConnectorCapability[];
  targetKinds: readonly IdentityKind[];
  connect(params: Static<P>): ConnectorSession;
}

/** A live handle on the target system; `close` releases what `connect` opened. */
export interface ConnectorSession {
  discover?(): Promise<Discovery>;
  close(): Promise<void>;
}

/** What a connector found on its system, in the provider's own names. */
export interface Discovery {
  identities: DiscoveredIdentity[];
  sessions: DiscoveredSession[];
  resources: DiscoveredResource[];
  grants: DiscoveredGrant[];
}

export interface DiscoveredIdentity {
  externalRef: string;
  kind: IdentityKind;
  name: string;
  /** False when the account cannot authenticate (e.g. a role with NOLOGIN). */
  canLogin: boolean;
  attributes: Record<string, unknown>;
}

export interface DiscoveredSession {
  /** Unique on the provider for the session's lifetime (pid + start time, say). */
  key: string;
  identityRef: string;
  issuedAt: Date;
  attributes: Record<string, unknown>;
}

export interface DiscoveredResource {
  /** Unique within the connector. */
  key: string;
  kind: string;
  name: string;
}

export interface DiscoveredGrant {
  identityRef: string;
  resourceKey: string;
  permissions: string[];
}
