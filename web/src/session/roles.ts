import { ADMINS, READERS, RESPONDERS, type ApiRole } from '../../../src/domain/roles.js';

/**
 * What a role may do in the console, as the API's routes admit it (the API enforces the same on
 * every call). Deciding a step is not here: each step names the roles that may decide it.
 */
export function permissions(role: ApiRole) {
  return {
    /** Change an incident's status, refresh its blast radius, dry-run a playbook. */
    respond: RESPONDERS.includes(role),
    /** Add notes to an incident and tick off its tasks. */
    write: READERS.includes(role) && role !== 'viewer',
    /** Force-close an incident with steps pending, break glass on an approval, read policy versions. */
    administer: ADMINS.includes(role),
    /** POST /v1/authorize admits workloads and admins; of the two, only admins use the console. */
    testPolicies: ADMINS.includes(role),
  };
}

export type Permissions = ReturnType<typeof permissions>;
