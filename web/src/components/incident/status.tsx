import { useState, type FormEvent } from 'react';
import type { ActionRunState } from '../../../../src/domain/action-run.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../../../src/domain/incident.js';
import { api } from '../../api/endpoints';
import type { IncidentDetail } from '../../api/types';
import { useSession } from '../../session/session';
import { Badge } from '../badge';
import { ProblemView } from '../problem';
import { Time } from '../time';
import { useIncidentChange } from './change';

/** Steps that keep an incident open: only an admin may close it over them, cancelling what has not run. */
const BLOCKING: readonly ActionRunState[] = ['planned', 'awaiting_approval', 'approved', 'running', 'verification_failed'];
const MIN_FORCE_REASON = 10;

/** Who holds the incident and where it stands, and (for responders and admins) moving it by hand. */
export function IncidentStatusPanel({ incident }: { incident: IncidentDetail }) {
  const { can } = useSession();
  return (
    <>
      <dl className="facts">
        <dt>Status</dt><dd><Badge kind="status" value={incident.status} />{incident.escalated ? <> <Badge value="escalated" /></> : null}</dd>
        <dt>Severity</dt><dd><Badge kind="severity" value={incident.severity} /></dd>
        <dt>Assignee</dt><dd>{incident.assignee ?? <span className="muted">unassigned</span>}</dd>
        <dt>Teams</dt><dd>{incident.teams.join(', ') || <span className="muted">none</span>}</dd>
        <dt>TLP</dt><dd>TLP:{incident.tlp.toUpperCase()}</dd>
        <dt>Opened</dt><dd><Time at={incident.openedAt} /> by {incident.openedBy}</dd>
        {incident.closedAt ? <><dt>Closed</dt><dd><Time at={incident.closedAt} />: {incident.closeReason}</dd></> : null}
        {incident.summary ? <><dt>Summary</dt><dd>{incident.summary}</dd></> : null}
      </dl>
      {can.respond ? <StatusChange incident={incident} /> : null}
    </>
  );
}

function StatusChange({ incident }: { incident: IncidentDetail }) {
  const { can } = useSession();
  const [status, setStatus] = useState<IncidentStatus | ''>('');
  const [reason, setReason] = useState('');
  const [force, setForce] = useState(false);
  const change = useIncidentChange((body: { status: IncidentStatus; reason?: string; force?: boolean }) => api.setIncidentStatus(incident.id, body), () => {
    setStatus('');
    setReason('');
    setForce(false);
  });
  const closing = status === 'closed';
  const blocking = incident.actions.filter((run) => BLOCKING.includes(run.state));
  const forcing = closing && blocking.length > 0 && force;
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!status) return;
    change.mutate({ status, ...(reason.trim() ? { reason: reason.trim() } : {}), ...(forcing ? { force: true } : {}) });
  }
  // `contained` follows verified containment only; the API says which other moves it allows from here.
  const choices = INCIDENT_STATUSES.filter((s) => s !== incident.status && s !== 'contained');
  return (
    <form className="status-form" onSubmit={submit} aria-label="Change the status">
      <div className="form-row">
        <label className="field">
          <span>New status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as IncidentStatus | '')} required>
            <option value="">Choose…</option>
            {choices.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label className="field grow">
          <span>{closing ? 'Reason (required to close)' : 'Reason (optional)'}</span>
          <input value={reason} onChange={(e) => setReason(e.target.value)} required={closing} minLength={forcing ? MIN_FORCE_REASON : undefined} maxLength={2000} autoComplete="off" />
        </label>
      </div>
      {closing && blocking.length ? (
        can.administer ? (
          <label className="field inline">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
            <span>Force: close although {blocking.length} step{blocking.length === 1 ? ' is' : 's are'} pending or unproven, cancelling what has not run (reason of {MIN_FORCE_REASON}+ characters)</span>
          </label>
        ) : (
          <p className="warn small">{blocking.length} step{blocking.length === 1 ? ' is' : 's are'} pending or unproven: only an admin may close this incident now.</p>
        )
      ) : null}
      <button type="submit" disabled={change.isPending || !status}>Change status</button>
      <p className="hint">An incident becomes contained by itself once its containment steps are verified.</p>
      {change.isError ? <ProblemView error={change.error} context="Changing the status" /> : null}
    </form>
  );
}
