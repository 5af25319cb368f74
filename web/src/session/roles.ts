import { ADMINS, APPROVERS, RESPONDERS, type ApiRole } from '../../../src/domain/roles.js';

/** What a role may do in the console; the API enforces the same roles on every route. */
export function permissions(role: ApiRole) {
  return {
    approve: APPROVERS.includes(role),
    respond: RESPONDERS.includes(role),
    administer: ADMINS.includes(role),
    /** POST /v1/authorize admits workloads and admins; of the two, only admins use the console. */
    testPolicies: ADMINS.includes(role),
  };
}

export type Permissions = ReturnType<typeof permissions>;
