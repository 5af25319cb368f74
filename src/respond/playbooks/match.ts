import { confidenceRank, severityRank, type Confidence, type DetectionType, type Severity } from '../../domain/detection.js';
import type { Playbook } from './load.js';

/** What matching reads of a detection and of the identity it names. */
export interface MatchSubject {
  type: DetectionType;
  severity: Severity;
  confidence: Confidence;
  identity: { kind: string; provider: string; tags: string[]; environment: string } | null;
}

export function playbookMatches(playbook: Playbook, subject: MatchSubject): boolean {
  const m = playbook.match;
  if (!m.types.includes(subject.type)) return false;
  if (m.minSeverity && severityRank(subject.severity) < severityRank(m.minSeverity)) return false;
  if (m.minConfidence && confidenceRank(subject.confidence) < confidenceRank(m.minConfidence)) return false;
  if (m.maxConfidence && confidenceRank(subject.confidence) > confidenceRank(m.maxConfidence)) return false;
  const identity = subject.identity;
  if (m.identity === 'required' && !identity) return false;
  if (m.identity === 'absent' && identity) return false;
  if (m.identityKinds && (!identity || !m.identityKinds.includes(identity.kind as never))) return false;
  if (m.providers && (!identity || !m.providers.includes(identity.provider as never))) return false;
  if (m.tags && (!identity || !m.tags.some((t) => identity.tags.includes(t)))) return false;
  if (m.environments && (!identity || !m.environments.includes(identity.environment))) return false;
  return true;
}

/** How many conditions beyond the detection type a playbook sets: the more, the more specific. */
function specificity(playbook: Playbook): number {
  const m = playbook.match;
  return [m.minSeverity, m.minConfidence, m.maxConfidence, m.identityKinds, m.providers, m.tags, m.environments]
    .filter((c) => c !== undefined).length + (m.identity === 'any' ? 0 : 1);
}

/**
 * The playbook for a detection: among those that match, the highest priority, then the most
 * specific, then the first id. Undefined when none matches.
 */
export function selectPlaybook<P extends Playbook>(playbooks: readonly P[], subject: MatchSubject): P | undefined {
  return playbooks
    .filter((p) => playbookMatches(p, subject))
    .sort((a, b) => b.priority - a.priority || specificity(b) - specificity(a) || a.id.localeCompare(b.id))[0];
}
