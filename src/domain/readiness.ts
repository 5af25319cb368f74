/**
 * Containment readiness (SPEC §3.8), as `GET /v1/readiness` and `GET /v1/identities/:id/readiness`
 * answer it: for each identity, could Cordon contain it today without a person.
 */
export interface ReadinessChecks {
  rotate: boolean;
  revokeSessions: boolean;
  disable: boolean;
  owner: boolean;
  playbook: boolean;
}

export interface IdentityReadiness {
  identityId: string;
  name: string;
  kind: string;
  provider: string;
  environment: string;
  checks: ReadinessChecks;
  /** Share of the checks met, 0..1. */
  score: number;
  /** The playbook a confirmed leak would run. */
  playbook: string | null;
  /** What is missing, in words. */
  gaps: string[];
}

export interface ReadinessSummary {
  identities: number;
  /** Identities meeting every check. */
  ready: number;
  /** Mean score. */
  score: number;
  byCheck: Record<keyof ReadinessChecks, number>;
}
