import { useId } from 'react';
import { Link } from 'react-router';
import type { DryRun, DryRunStep } from '../api/types';
import { PlanDiff, sentence } from './action-run';
import { Badge } from './badge';
import { describeApproval } from './playbook';

/** What a disposition means for the step, in words. */
const DISPOSITION: Record<DryRunStep['disposition'], string> = {
  run: 'would run',
  skip: 'would be skipped',
  escalate: 'would not run: the incident goes to people',
  no_target: 'nothing to act on',
  no_performer: 'nothing can act on it: a person must',
};

function Step({ step }: { step: DryRunStep }) {
  const headingId = useId();
  return (
    <article className="action-run" aria-labelledby={headingId} data-state={step.disposition === 'run' ? (step.approval ? 'awaiting_approval' : 'planned') : 'failed'}>
      <header className="action-run-header">
        <h4 id={headingId}>{step.seq}. {sentence(step.action)} <span className="muted">→ {step.targetLabel}</span></h4>
        <Badge kind="state" value={step.disposition} />
      </header>
      <p className="muted small">
        Step <code>{step.stepId}</code> of tier {step.tier}; target {step.selector.replace(/_/g, ' ')}; performed by {step.performer ?? 'nobody'}{step.owner ? `; owner ${step.owner}` : ''}. It {DISPOSITION[step.disposition]}{step.reason ? `: ${step.reason}` : '.'}
      </p>
      <p>Approval: {describeApproval(step.approval)}{step.approval?.reasons.length ? `. Why: ${step.approval.reasons.join('; ')}` : ''}.</p>
      {step.guards.length ? (
        <ul className="checks" aria-label="Guards">
          {step.guards.map((g, i) => (
            <li key={i}><Badge kind="state" value={g.tripped ? 'tripped' : 'passed'} /> {g.when.replace(/_/g, ' ')} → {g.then.replace(/_/g, ' ')}: {g.detail}</li>
          ))}
        </ul>
      ) : <p className="muted small">No guard.</p>}
      {step.diff === null ? <p className="muted">No diff: the step would not run.</p>
        : 'error' in step.diff ? <p className="warn">The diff could not be read: <code>{step.diff.code}</code> {step.diff.error}</p>
          : <PlanDiff plan={step.diff} />}
    </article>
  );
}

/** The exact plan a playbook would carry out for a detection, each step with its diff, changing nothing. */
export function DryRunResult({ plan }: { plan: DryRun }) {
  const d = plan.detection;
  return (
    <div className="dry-run" role="region" aria-label="Dry-run plan">
      <p role="status">
        <strong>Playbook <Link to={`/playbooks/${encodeURIComponent(plan.playbook.id)}?version=${plan.playbook.version}`}>{plan.playbook.title}</Link></strong> (v{plan.playbook.version}) would answer
        {' '}{d.id ? <Link to={`/detections/${encodeURIComponent(d.id)}`}>{d.title}</Link> : <>a {d.severity} {d.type.replace(/_/g, ' ')} with {d.confidence} confidence</>}
        {' '}on {d.identityId ?? 'no known identity'} with {plan.runs.length} step{plan.runs.length === 1 ? '' : 's'}. Nothing was changed.
      </p>
      {plan.escalations.length ? (
        <ul className="warn" aria-label="Escalations">
          {plan.escalations.map((e, i) => <li key={i}>Escalates ({e.code}){e.stepId ? ` at step ${e.stepId}` : ''}: {e.reason}</li>)}
        </ul>
      ) : null}
      {plan.runs.map((step) => <Step key={step.seq} step={step} />)}
    </div>
  );
}
