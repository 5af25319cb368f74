/** The vocabulary of detections (SPEC §2, §3.3), as values (for schemas) and types (for code). */

/** What a detection says happened; the built-in detectors each produce one, rules pick one. */
export const DETECTION_TYPES = [
  'secret_exposure', 'use_after_revocation', 'concurrent_sources', 'new_source', 'unusual_destination',
  'off_hours_privileged', 'issuance_spike', 'ttl_overrun', 'stale_reactivated', 'suspicious_consent',
  'lateral_movement', 'privilege_escalation', 'defense_evasion', 'suspicious_activity',
] as const;
export type DetectionType = (typeof DETECTION_TYPES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CONFIDENCES = ['low', 'medium', 'high', 'confirmed'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** OWASP Non-Human Identities Top 10 (2025): NHI1 … NHI10. */
export const OWASP_NHI_ITEMS = ['NHI1', 'NHI2', 'NHI3', 'NHI4', 'NHI5', 'NHI6', 'NHI7', 'NHI8', 'NHI9', 'NHI10'] as const;
export type OwaspNhiItem = (typeof OWASP_NHI_ITEMS)[number];

/** A NIST CSF 2.0 subcategory id: function, category, number (`DE.CM-01`, `PR.AA-05`). */
export const NIST_CSF_ID = /^(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-\d{2}$/;

export interface FrameworkRefs {
  owaspNhi: OwaspNhiItem[];
  nistCsf: string[];
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function confidenceRank(c: Confidence): number {
  return CONFIDENCES.indexOf(c);
}
