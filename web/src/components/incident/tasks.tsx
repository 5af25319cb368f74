import { useState, type FormEvent } from 'react';
import type { TaskStatus } from '../../../../src/domain/incident.js';
import { api } from '../../api/endpoints';
import type { IncidentDetail, IncidentTask } from '../../api/types';
import { useSession } from '../../session/session';
import { Badge } from '../badge';
import { ProblemView } from '../problem';
import { Time } from '../time';
import { useIncidentChange } from './change';

/** Work routed to teams (session reviews, notifications) and the recovery checklist, ticked off by writers. */
export function Tasks({ incident }: { incident: IncidentDetail }) {
  const { can } = useSession();
  const change = useIncidentChange(({ task, status }: { task: IncidentTask; status: TaskStatus }) => api.setTaskStatus(incident.id, task.id, status));
  if (!incident.tasks.length) return <p>No task has been routed for this incident.</p>;
  const open = incident.tasks.filter((t) => t.status === 'open').length;
  return (
    <>
      <p className="muted">{open} of {incident.tasks.length} open.</p>
      <ul className="tasks">
        {incident.tasks.map((task) => (
          <li key={task.id} className={`task task-${task.status}`}>
            <div className="task-head">
              <strong>{task.title}</strong> <Badge kind="status" value={task.status} />
              <span className="muted small"> {task.kind.replace(/_/g, ' ')} · {task.team ?? 'no team'}</span>
            </div>
            {task.detail ? <p className="task-detail">{task.detail}</p> : null}
            {task.doneBy ? <p className="muted small">{task.status} by {task.doneBy} <Time at={task.doneAt} /></p> : null}
            {can.write ? (
              <div className="task-buttons">
                {task.status === 'open' ? (
                  <>
                    <button type="button" className="secondary small" disabled={change.isPending} onClick={() => change.mutate({ task, status: 'done' })} aria-label={`Mark "${task.title}" done`}>Done</button>
                    <button type="button" className="secondary small" disabled={change.isPending} onClick={() => change.mutate({ task, status: 'cancelled' })} aria-label={`Cancel "${task.title}"`}>Cancel task</button>
                  </>
                ) : (
                  <button type="button" className="secondary small" disabled={change.isPending} onClick={() => change.mutate({ task, status: 'open' })} aria-label={`Reopen "${task.title}"`}>Reopen</button>
                )}
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      {change.isError ? <ProblemView error={change.error} context="Updating the task" /> : null}
    </>
  );
}

/** Notes are kept as evidence (hashed into the chain) and shown on the timeline. */
export function Notes({ incident }: { incident: IncidentDetail }) {
  const { can } = useSession();
  const [text, setText] = useState('');
  const add = useIncidentChange((note: string) => api.addNote(incident.id, note), () => setText(''));
  const notes = incident.timeline.filter((entry) => entry.kind === 'note.added');
  function submit(event: FormEvent) {
    event.preventDefault();
    if (text.trim()) add.mutate(text.trim());
  }
  return (
    <>
      {notes.length ? (
        <ul className="plain-list notes">
          {notes.map((note, i) => <li key={i}><Time at={note.at} /> <span className="muted">{note.actor}</span>: {note.summary}</li>)}
        </ul>
      ) : <p className="muted">No note yet.</p>}
      {can.write ? (
        <form onSubmit={submit} aria-label="Add a note">
          <label className="field">
            <span>Note</span>
            <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} maxLength={20_000} required />
          </label>
          <button type="submit" disabled={add.isPending}>Add note</button>
          {add.isError ? <ProblemView error={add.error} context="Adding the note" /> : null}
        </form>
      ) : null}
    </>
  );
}
