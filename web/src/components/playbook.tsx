import type { ApprovalRequirement, PlaybookGuard, PlaybookStep } from '../api/types';
import { formatDuration } from './time';

const words = (value: string) => value.replace(/_/g, ' ');

/** What a playbook answers, in words: `secret exposure; severity ≥ medium; confidence ≥ confirmed; …`. */
export function describeMatch(match: Record<string, unknown>): string {
  const list = (key: string) => (Array.isArray(match[key]) ? (match[key] as string[]).map(words).join(', ') : null);
  const parts = [
    list('types'),
    match.minSeverity ? `severity ≥ ${String(match.minSeverity)}` : null,
    match.minConfidence ? `confidence ≥ ${String(match.minConfidence)}` : null,
    match.maxConfidence ? `confidence ≤ ${String(match.maxConfidence)}` : null,
    match.identity && match.identity !== 'any' ? `identity ${String(match.identity)}` : null,
    list('identityKinds') ? `kinds: ${list('identityKinds')}` : null,
    list('providers') ? `providers: ${list('providers')}` : null,
    list('tags') ? `tags: ${list('tags')}` : null,
    list('environments') ? `environments: ${list('environments')}` : null,
  ];
  return parts.filter(Boolean).join('; ');
}

/** `approver or admin, 1 of them, within 1 h, then deny`. */
export function describeApproval(approval: Omit<ApprovalRequirement, 'reasons'> | 'auto' | null): string {
  if (!approval || approval === 'auto') return 'none (runs by itself)';
  return `${approval.roles.join(' or ')}, ${approval.quorum} ${approval.quorum === 1 ? 'person' : 'different people'}, within ${formatDuration(approval.timeoutMs)}, then ${approval.default}`;
}

export function describeGuard(guard: PlaybookGuard): string {
  return `${words(guard.when)}${guard.above !== undefined ? ` ${guard.above}` : ''} → ${words(guard.then)}`;
}

/** The steps of a playbook as stored (resolved defaults included). */
export function StepsTable({ steps }: { steps: PlaybookStep[] }) {
  return (
    <table>
      <caption className="visually-hidden">Steps, in the order they run</caption>
      <thead>
        <tr><th scope="col">Tier</th><th scope="col">Step</th><th scope="col">Action → target</th><th scope="col">Approval</th><th scope="col">Guards</th><th scope="col">Limits</th></tr>
      </thead>
      <tbody>
        {steps.map((step) => (
          <tr key={step.id}>
            <td className="nowrap">{step.tier}</td>
            <td className="nowrap"><code>{step.id}</code>{step.owner ? <div className="muted small">owner {step.owner}</div> : null}</td>
            <td>
              {words(step.action)} → {words(step.target)}
              {Object.keys(step.params).length ? <div className="muted small">{Object.entries(step.params).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}</div> : null}
            </td>
            <td>{describeApproval(step.approval)}</td>
            <td>{step.guards.length ? step.guards.map(describeGuard).join('; ') : <span className="muted">none</span>}</td>
            <td className="small">timeout {formatDuration(step.timeoutMs)}, {step.maxAttempts} attempt{step.maxAttempts === 1 ? '' : 's'}{step.continueOnError ? ', continues on error' : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const DOCUMENT_KEYS = ['apiVersion', 'kind', 'id', 'title', 'description', 'priority', 'match', 'tiers', 'escalation'];
const TIER_KEYS = ['name', 'steps'];
const STEP_KEYS = ['id', 'action', 'description', 'target', 'params', 'owner', 'approval', 'guards', 'continueOnError', 'timeout', 'maxAttempts'];

function ordered(value: unknown, keys: string[]): Record<string, unknown> {
  const object = (value ?? {}) as Record<string, unknown>;
  const rank = (key: string) => (keys.includes(key) ? keys.indexOf(key) : keys.length);
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)));
}

/**
 * A stored playbook document with its keys in the order playbooks are written (the store keeps
 * JSON, whose key order is its own), so the YAML shown and copied reads like the file.
 */
export function inWrittenOrder(document: Record<string, unknown>): Record<string, unknown> {
  const top = ordered(document, DOCUMENT_KEYS);
  if (Array.isArray(top.tiers)) {
    top.tiers = top.tiers.map((tier) => {
      const t = ordered(tier, TIER_KEYS);
      if (Array.isArray(t.steps)) t.steps = t.steps.map((step) => ordered(step, STEP_KEYS));
      return t;
    });
  }
  return top;
}
