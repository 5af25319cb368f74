import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, keys } from '../api/endpoints';
import type { AuthorizeRequest } from '../api/types';
import { Badge } from '../components/badge';
import { CursorPager, FilterBar, useFilters } from '../components/filters';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { ProblemView } from '../components/problem';
import { Time } from '../components/time';
import { useSession } from '../session/session';

/** A request the shipped policies decide (policies/tests/agents.yaml), as a starting point. */
const EXAMPLE = {
  principalType: 'Cordon::AiAgent', principalId: 'agent-support', actionType: 'Cordon::Action', actionId: 'tool.call',
  resourceType: 'Cordon::Tool', resourceId: 'tickets.read', context: '{}', task: '',
};
type RequestForm = typeof EXAMPLE;

function toRequest(form: RequestForm): AuthorizeRequest {
  let context: unknown;
  try {
    context = JSON.parse(form.context || '{}');
  } catch (error) {
    throw new Error(`The context is not JSON: ${(error as Error).message}`);
  }
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new Error('The context must be a JSON object');
  return {
    principal: { type: form.principalType, id: form.principalId },
    action: { type: form.actionType, id: form.actionId },
    resource: { type: form.resourceType, id: form.resourceId },
    ...(Object.keys(context).length ? { context: context as Record<string, unknown> } : {}),
    ...(form.task ? { task: { id: form.task } } : {}),
  };
}

const REQUEST_FIELDS: [keyof RequestForm, string][] = [
  ['principalType', 'Principal type'], ['principalId', 'Principal id'], ['actionType', 'Action type'], ['actionId', 'Action id'],
  ['resourceType', 'Resource type'], ['resourceId', 'Resource id'], ['task', 'Task id (optional)'],
];

function TestRequest() {
  const [form, setForm] = useState(EXAMPLE);
  const queryClient = useQueryClient();
  const decide = useMutation({
    mutationFn: (value: RequestForm) => api.authorize(toRequest(value)),
    // Decisions are logged, not audited: the stream does not announce them.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['policies', 'decisions'] }),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    decide.mutate(form);
  }
  return (
    <form onSubmit={submit} aria-label="Test a request" className="request-form">
      <div className="form-grid">
        {REQUEST_FIELDS.map(([name, label]) => (
          <label key={name} className="field">
            <span>{label}</span>
            <input value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} required={name !== 'task'} autoComplete="off" spellCheck={false} />
          </label>
        ))}
      </div>
      <label className="field">
        <span>Context (JSON object, typed by the schema for the action)</span>
        <textarea value={form.context} onChange={(e) => setForm({ ...form, context: e.target.value })} rows={3} className="code-input" spellCheck={false} />
      </label>
      <button type="submit" disabled={decide.isPending}>Decide</button>
      {decide.isError ? <ProblemView error={decide.error} context="Deciding" /> : null}
      {decide.isSuccess ? (
        <div role="status" className="decision">
          <p><Badge kind="decision" value={decide.data.decision} /> by policy version {decide.data.policyVersion}</p>
          <p>Decided by: {decide.data.reasons.length ? decide.data.reasons.map((r) => <code key={r}>{r}</code>) : 'no policy (default deny)'}</p>
          {decide.data.errors.length ? <ul className="warn">{decide.data.errors.map((e) => <li key={e}>{e}</li>)}</ul> : null}
          <p className="muted small">Decision {decide.data.decisionId}; it is in the decision log.</p>
        </div>
      ) : null}
    </form>
  );
}

function ServingVersion() {
  const serving = useQuery({ queryKey: keys.servingPolicies(), queryFn: api.servingPolicies });
  const versions = useQuery({ queryKey: keys.policyVersions(), queryFn: api.policyVersions });
  return (
    <>
      <Loaded query={serving} what="the serving policies">
        {(set) => (
          <>
            <p>Serving version <strong>{set.version}</strong> ({set.policies.length} policies), digest <code className="digest">{set.digest}</code></p>
            <details>
              <summary>Policies of version {set.version}</summary>
              {set.policies.map((p) => <div key={p.id}><h3 className="small-heading">{p.id} <span className="muted">{p.source}</span></h3><pre className="json">{p.text}</pre></div>)}
            </details>
          </>
        )}
      </Loaded>
      <Loaded query={versions} what="policy versions">
        {({ items }) => (
          <table>
            <caption>Versions, newest first</caption>
            <thead><tr><th scope="col">Version</th><th scope="col">Origin</th><th scope="col">Policies</th><th scope="col">By</th><th scope="col">When</th><th scope="col">Comment</th></tr></thead>
            <tbody>{items.map((v) => <tr key={v.version}><td>{v.version}</td><td>{v.origin}</td><td>{v.policyIds.length}</td><td>{v.createdBy}</td><td><Time at={v.createdAt} /></td><td>{v.comment ?? ''}</td></tr>)}</tbody>
          </table>
        )}
      </Loaded>
    </>
  );
}

const DECISION_FIELDS = [
  { name: 'principal', label: 'Principal id', type: 'text' },
  { name: 'decision', label: 'Decision', type: 'select', options: ['allow', 'deny'] },
  { name: 'action', label: 'Action id', type: 'text', placeholder: 'e.g. tool.call' },
] as const;

function DecisionLog() {
  const { before, ...rest } = useFilters(['principal', 'decision', 'action', 'before']);
  const filter = { ...rest, ...(before ? { before: Number(before) } : {}), limit: 50 };
  const query = useQuery({ queryKey: keys.decisions(filter), queryFn: () => api.decisions(filter) });
  return (
    <>
      <FilterBar fields={DECISION_FIELDS} label="Filter decisions" />
      <Loaded query={query} what="the decision log">
        {(page) => (
          <>
            <table>
              <caption className="visually-hidden">Decisions</caption>
              <thead><tr><th scope="col">When</th><th scope="col">Principal</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Decision</th><th scope="col">Policies</th><th scope="col">Caller</th></tr></thead>
              <tbody>
                {page.items.map((d) => (
                  <tr key={d.seq}>
                    <td><Time at={d.at} /></td><td>{d.principal.type} {d.principal.id}</td><td>{d.action}</td><td>{d.resource.type} {d.resource.id}</td>
                    <td><Badge kind="decision" value={d.decision} /></td><td>{d.reasons.join(', ') || '—'}</td><td>{d.caller}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.items.length === 0 ? <p>No decision matches.</p> : null}
            <CursorPager nextCursor={page.nextBefore} param="before" />
          </>
        )}
      </Loaded>
    </>
  );
}

export function PoliciesPage() {
  const { can, me } = useSession();
  return (
    <Page title="Policies" subtitle="Request-time decisions: Cedar policies, versions, and the decision log.">
      {can.testPolicies ? (
        <div className="grid-2">
          <Section title="Test a request"><TestRequest /></Section>
          <Section title="Serving policies"><ServingVersion /></Section>
        </div>
      ) : (
        <p className="muted">Testing a request and reading policy versions need the admin role; you are signed in as {me.role}.</p>
      )}
      <Section title="Decision log"><DecisionLog /></Section>
    </Page>
  );
}
