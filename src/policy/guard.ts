/**
 * The containment guard: an identity that is quarantined, disabled or offboarded is denied,
 * whatever else permits it. It is a Cedar `forbid` (so it shows in the reasons of the deny), added
 * to every policy version by the loader under a reserved id that no loaded policy can take, and
 * it reads `context.risk`, which only Cordon fills. A `forbid` cannot be overridden by any permit.
 */
export const GUARD_POLICY_ID = 'cordon.guard.containment';

export const GUARD_POLICY_TEXT = `@id("${GUARD_POLICY_ID}")
forbid (principal, action, resource)
when { context.risk.contained };`;
