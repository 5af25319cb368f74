import type { Discovery } from '../contract.js';
import type { ManagementApi, RabbitUser } from './management.js';

interface ConnectionStats {
  name: string;
  user: string;
  vhost: string;
  connected_at?: number;
  peer_host?: string;
  peer_port?: number;
  client_properties?: { connection_name?: string; product?: string };
}

interface Permission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

/**
 * Reads users, their connections and their permissions per vhost. The connection list comes
 * from the management statistics, which lag by up to the broker's collection interval (5 s by
 * default): a connection opened just before may show up on the next run.
 */
export async function discoverRabbitmq(api: ManagementApi): Promise<Discovery> {
  const users = await api.get<RabbitUser[]>('/users') ?? [];
  const connections = await api.get<ConnectionStats[]>('/connections?columns=name,user,vhost,connected_at,peer_host,peer_port,client_properties') ?? [];
  const permissions = await api.get<Permission[]>('/permissions') ?? [];
  const vhosts = [...new Set(permissions.map((p) => p.vhost))];
  return {
    identities: users.map((u) => ({
      externalRef: u.name,
      kind: 'service_account',
      name: u.name,
      canLogin: u.password_hash !== '' && u.limits['max-connections'] !== 0,
      attributes: { tags: u.tags, limits: u.limits, hasPassword: u.password_hash !== '' },
    })),
    sessions: connections.map((c) => ({
      key: c.name,
      identityRef: c.user,
      issuedAt: new Date(c.connected_at ?? Date.now()),
      attributes: { vhost: c.vhost, peer: c.peer_host ? `${c.peer_host}:${c.peer_port}` : null, connectionName: c.client_properties?.connection_name ?? null },
    })),
    resources: vhosts.map((v) => ({ key: `vhost ${v}`, kind: 'vhost', name: v })),
    grants: permissions.map((p) => ({ identityRef: p.user, resourceKey: `vhost ${p.vhost}`, permissions: [`configure:${p.configure}`, `write:${p.write}`, `read:${p.read}`] })),
  };
}
