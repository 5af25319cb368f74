import { ACTION_ENTITY_TYPE, IDENTITY_ENTITY_TYPES, TEAM_ENTITY_TYPE } from '../domain/authorization.js';

/** Names shared by Cordon's Cedar schema (`policies/cordon.cedarschema`) and the code that fills requests. */
export const ACTION_TYPE = ACTION_ENTITY_TYPE;
export const TEAM_TYPE = TEAM_ENTITY_TYPE;
export { IDENTITY_ENTITY_TYPES };

export const IDENTITY_TYPES: ReadonlySet<string> = new Set(Object.values(IDENTITY_ENTITY_TYPES));

/** Context fields Cordon fills itself; a caller may not set them. */
export const ENRICHED_CONTEXT = ['time', 'risk', 'task'] as const;

/** Policy ids starting with this are Cordon's own (the guard): a loaded policy may not take one. */
export const RESERVED_ID_PREFIX = 'cordon.';
