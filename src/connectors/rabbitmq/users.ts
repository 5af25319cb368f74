import type { ManagementApi } from './management.js';
import type { RabbitmqParams } from './params.js';

export interface RabbitmqDeps {
  api: ManagementApi;
  params: RabbitmqParams;
}

/**
 * The vhost a login proof opens: the configured one if the user may use it, else one it may,
 * so that a refusal to open it is not just a missing permission.
 */
export async function proofVhost(deps: RabbitmqDeps, user: string): Promise<string> {
  const permissions = await deps.api.get<{ vhost: string }[]>(`/users/${encodeURIComponent(user)}/permissions`) ?? [];
  const vhosts = permissions.map((p) => p.vhost);
  return vhosts.includes(deps.params.vhost) || vhosts.length === 0 ? deps.params.vhost : vhosts[0]!;
}

export const userPath = (name: string) => `/users/${encodeURIComponent(name)}`;
export const limitPath = (name: string) => `/user-limits/${encodeURIComponent(name)}/max-connections`;
