import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import type { ApiRole } from '../../../src/domain/roles.js';
import { api } from '../api/endpoints';
import type { ActionPlan, ActionRun, Approval, Decided } from '../api/types';
import { useSession } from '../session/session';
import { Badge } from './badge';
import { ProblemView } from './problem';
import { formatDuration, Time } from './time';

/** `disable_identity` → "Disable identity". */
export function sentence(name: string): string {
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The exact changes a step will make, line by line, as its performer planned them. */
export function PlanDiff({ plan, digest }: { plan: ActionPlan; digest?: string | null }) {
  return (
    <div className="plan">
      <p className="plan-meta">
        Planned changes ({plan.reversible ? 'reversible' : 'not reversible'}){digest ? <>; plan digest <code className="digest">{digest}</code></> : null}
      </p>
      {plan.changes.length ? (
        <ul className="diff" aria-label="Planned changes">
          {plan.changes.map((change, i) => (
            <li key={i}><span className="diff-op">{change.op}</span> <span className="diff-object">{change.object}</span> <span className="diff-detail">{change.detail}</span></li>
          ))}
        </ul>
      ) : <p className="muted">The plan changes nothing.</p>}
    </div>
  );
}

/** Who must approve, how many, by when, and who did. */
function ApprovalState({ approval }: { approval: Approval }) {
  const approvals = approval.approvals.filter((a) => a.decision === 'approve');
  return (
    <div className="approval-state">
      <p>
        Approval: {approvals.length} of {approval.quorum} from {approval.roles.join(' or ')}
        {approval.timeoutAt ? <>; undecided by <Time at={approval.timeoutAt} />, it is {approval.default === 'approve' ? 'approved' : 'denied'}</> : <>; timeout {formatDuration(approval.timeoutMs)}, then {approval.default}</>}.
        {approval.reasons.length ? <> Why: {approval.reasons.join('; ')}.</> : null}
      </p>
      {approval.approvals.length ? (
        <ul className="decisions" aria-label="Decisions">
          {approval.approvals.map((a, i) => (
            <li key={i}>
              <Badge kind="state" value={a.decision === 'approve' ? 'approved' : 'denied'} /> by <strong>{a.subject}</strong> ({a.role}) <Time at={a.at} />
              {a.breakGlass ? <> <Badge value="break-glass" /></> : null}{a.reason ? <>: {a.reason}</> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Whether the signed-in role may decide this step, as the API will judge it (the step names its roles). */
function mayDecide(run: ActionRun, role: ApiRole): boolean {
  return run.state === 'awaiting_approval' && run.approval !== null && (run.approval.roles as string[]).includes(role);
}

/** One step of a response: its plan, approvals, proof, and approve/deny for those whose role may. */
export function ActionRunCard({ run }: { run: ActionRun }) {
  const { me } = useSession();
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const decides = mayDecide(run, me.role);
  return (
    <article className="action-run" aria-labelledby={headingId} data-state={run.state} id={`run-${run.id}`}>
      <header className="action-run-header">
        <h3 id={headingId} ref={heading} tabIndex={-1}>{sentence(run.action)} <span className="muted">→ {run.targetLabel}</span></h3>
        <Badge kind="state" value={run.state} />
      </header>
      <p className="muted small">
        Step <code>{run.stepId}</code> of tier {run.tier}, performed by {run.performer}; attempt {run.attempts} of {run.maxAttempts}; updated <Time at={run.updatedAt} />
        {run.verifiedAt ? <>; verified <Time at={run.verifiedAt} /></> : null}
      </p>
      {run.plan ? <PlanDiff plan={run.plan} digest={run.planDigest} /> : <p className="muted">Not planned yet: the diff is read from the target system just before the step runs.</p>}
      {run.approval ? <ApprovalState approval={run.approval} /> : null}
      {run.verification ? (
        <div>
          <p>{run.verification.verified ? <strong className="ok">Verified on the target system</strong> : <strong className="warn">Not verified</strong>}</p>
          <ul className="checks" aria-label="Proof">
            {run.verification.checks.map((check) => (
              <li key={check.name}><Badge kind="state" value={check.passed ? 'passed' : 'failed'} /> {check.name}: {check.detail}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {run.error ? <p className={run.state === 'failed' || run.state === 'verification_failed' ? 'warn' : 'muted'}>{run.errorCode ? <code>{run.errorCode}</code> : null} {run.error}</p> : null}
      {run.state === 'awaiting_approval' ? (
        decides || me.role === 'admin'
          ? <ApprovalControls run={run} breakGlassOnly={!decides} onDecided={() => heading.current?.focus()} />
          : <p className="muted">Awaiting approval by {run.approval?.roles.join(' or ') ?? 'an approver'}; your role ({me.role}) cannot decide it.</p>
      ) : null}
    </article>
  );
}

const MIN_BREAK_GLASS_REASON = 10;

/** Approve or deny; once decided, focus returns to the step, whose state then follows live. */
function ApprovalControls({ run, breakGlassOnly, onDecided }: { run: ActionRun; breakGlassOnly: boolean; onDecided(): void }) {
  const queryClient = useQueryClient();
  const { me } = useSession();
  const [mode, setMode] = useState<'idle' | 'approve' | 'deny'>('idle');
  const [reason, setReason] = useState('');
  const [breakGlass, setBreakGlass] = useState(breakGlassOnly);
  const [recorded, setRecorded] = useState<Decided | null>(null);
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'deny') => decision === 'approve'
      ? api.approveAction(run.id, { planDigest: run.planDigest!, ...(reason.trim() ? { reason: reason.trim() } : {}), ...(breakGlass ? { breakGlass: true } : {}) })
      : api.denyAction(run.id, reason.trim()),
    onSuccess: async (outcome) => {
      setMode('idle');
      setReason('');
      setRecorded(outcome.decided ? null : outcome);
      onDecided();
      await Promise.all([queryClient.invalidateQueries({ queryKey: ['actions'] }), queryClient.invalidateQueries({ queryKey: ['incidents'] })]);
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mode !== 'idle') decide.mutate(mode);
  }
  const mine = run.approval?.approvals.some((a) => a.subject === me.subject && a.planDigest === run.planDigest);
  if (mode === 'idle') {
    return (
      <div className="approval-controls">
        {recorded || mine ? (
          <p role="status" className="ok">
            Your approval is recorded; {run.approval?.quorum ?? 1} different people must approve this plan.
          </p>
        ) : null}
        <div className="approval-buttons">
          {!mine ? <button type="button" onClick={() => setMode('approve')}>{breakGlassOnly ? 'Break glass…' : 'Approve…'}</button> : null}
          {!breakGlassOnly ? <button type="button" className="danger" onClick={() => setMode('deny')}>Deny…</button> : null}
        </div>
      </div>
    );
  }
  const approving = mode === 'approve';
  const reasonRequired = !approving || breakGlass;
  return (
    <form className="approval-form" onSubmit={submit} aria-label={approving ? 'Approve this plan' : 'Deny this step'}>
      {approving ? <p>You approve exactly the plan above (digest <code className="digest">{run.planDigest}</code>); if it has changed since, the API refuses the approval.</p> : null}
      {approving && me.role === 'admin' ? (
        <label className="field inline">
          <input type="checkbox" checked={breakGlass} disabled={breakGlassOnly} onChange={(e) => setBreakGlass(e.target.checked)} />
          <span>Break glass: approve alone, past the quorum and separation of duties (audited; needs a reason of {MIN_BREAK_GLASS_REASON}+ characters)</span>
        </label>
      ) : null}
      <label className="field">
        <span>{reasonRequired ? 'Reason (required)' : 'Reason (optional)'}</span>
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} required={reasonRequired} minLength={approving && breakGlass ? MIN_BREAK_GLASS_REASON : undefined} rows={2} autoFocus />
      </label>
      <div className="approval-buttons">
        <button type="submit" className={approving ? undefined : 'danger'} disabled={decide.isPending}>
          {approving ? 'Approve this plan' : 'Deny this step'}
        </button>
        <button type="button" className="secondary" onClick={() => { setMode('idle'); decide.reset(); }}>Cancel</button>
      </div>
      {decide.isError ? <ProblemView error={decide.error} context={approving ? 'Approving' : 'Denying'} /> : null}
    </form>
  );
}
