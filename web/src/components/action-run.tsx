import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../api/endpoints';
import type { ActionRun } from '../api/types';
import { useSession } from '../session/session';
import { Badge } from './badge';
import { ProblemView } from './problem';
import { Time } from './time';

/** `disable_identity` → "Disable identity". */
function sentence(name: string): string {
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The exact changes a step will make, line by line, as the connector planned them. */
export function PlanDiff({ run }: { run: Pick<ActionRun, 'plan' | 'planDigest'> }) {
  return (
    <div className="plan">
      <p className="plan-meta">
        Planned changes ({run.plan.reversible ? 'reversible' : 'not reversible'}); plan digest <code className="digest">{run.planDigest}</code>
      </p>
      {run.plan.changes.length ? (
        <ul className="diff" aria-label="Planned changes">
          {run.plan.changes.map((change, i) => (
            <li key={i}><span className="diff-op">{change.op}</span> <span className="diff-object">{change.object}</span> <span className="diff-detail">{change.detail}</span></li>
          ))}
        </ul>
      ) : <p className="muted">The plan changes nothing.</p>}
    </div>
  );
}

/** One step of a response: its plan, approvals, verification, and approve/deny for those whose role may. */
export function ActionRunCard({ run }: { run: ActionRun }) {
  const { can, me } = useSession();
  const headingId = useId();
  const approval = run.approval;
  return (
    <article className="action-run" aria-labelledby={headingId} data-state={run.state}>
      <header className="action-run-header">
        <h3 id={headingId}>{sentence(run.action)} <span className="muted">→ {run.targetLabel}</span></h3>
        <Badge kind="state" value={run.state} />
      </header>
      <p className="muted">
        Tier {run.tier}, step {run.stepId}, performed by {run.performer}; attempt {run.attempts}; requested by {run.requestedBy}; updated <Time at={run.updatedAt} />
      </p>
      <PlanDiff run={run} />
      {approval ? (
        <p>
          Approval: {approval.approvals.length} of {approval.quorum} from {approval.roles.join(' or ')}
          {approval.approvals.length ? ` (${approval.approvals.map((a) => a.subject).join(', ')})` : ''}
          {approval.timeoutAt ? <>; on timeout (<Time at={approval.timeoutAt} />) the default is {approval.default}</> : null}
          {approval.reasons.length ? `. Why: ${approval.reasons.join('; ')}` : ''}
        </p>
      ) : null}
      {run.verification ? (
        <div>
          <p>{run.verification.verified ? <strong className="ok">Verified</strong> : <strong className="warn">Not verified</strong>}</p>
          <ul className="checks">
            {run.verification.checks.map((check) => (
              <li key={check.name}><Badge kind="state" value={check.passed ? 'passed' : 'failed'} /> {check.name}: {check.detail}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {run.error ? <p className="warn">Error: {run.error}</p> : null}
      {run.state === 'awaiting_approval' ? (
        can.approve ? <ApprovalControls run={run} /> : <p className="muted">Awaiting approval by {approval?.roles.join(' or ') ?? 'an approver'}; your role ({me.role}) cannot approve.</p>
      ) : null}
    </article>
  );
}

function ApprovalControls({ run }: { run: ActionRun }) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<'idle' | 'approve' | 'deny'>('idle');
  const [reason, setReason] = useState('');
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'deny') =>
      decision === 'approve' ? api.approveAction(run.id, run.planDigest, reason.trim() || undefined) : api.denyAction(run.id, reason.trim()),
    onSuccess: async () => {
      setMode('idle');
      setReason('');
      await Promise.all([queryClient.invalidateQueries({ queryKey: ['actions'] }), queryClient.invalidateQueries({ queryKey: ['incidents'] })]);
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mode !== 'idle') decide.mutate(mode);
  }
  if (mode === 'idle') {
    return (
      <div className="approval-buttons">
        <button type="button" onClick={() => setMode('approve')}>Approve…</button>
        <button type="button" className="danger" onClick={() => setMode('deny')}>Deny…</button>
      </div>
    );
  }
  return (
    <form className="approval-form" onSubmit={submit} aria-label={mode === 'approve' ? 'Approve this plan' : 'Deny this step'}>
      {mode === 'approve' ? <p>You approve exactly the plan above (digest <code className="digest">{run.planDigest}</code>); if it changes, the approval is refused.</p> : null}
      <label className="field">
        <span>{mode === 'approve' ? 'Reason (optional)' : 'Reason (required)'}</span>
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} required={mode === 'deny'} rows={2} autoFocus />
      </label>
      <div className="approval-buttons">
        <button type="submit" className={mode === 'deny' ? 'danger' : undefined} disabled={decide.isPending}>
          {mode === 'approve' ? 'Approve this plan' : 'Deny this step'}
        </button>
        <button type="button" className="secondary" onClick={() => { setMode('idle'); decide.reset(); }}>Cancel</button>
      </div>
      {decide.isError ? <ProblemView error={decide.error} context={mode === 'approve' ? 'Approving' : 'Denying'} /> : null}
    </form>
  );
}
