import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, keys } from '../api/endpoints';
import { Json } from '../components/json';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { ProblemView } from '../components/problem';

function Validate() {
  const [yaml, setYaml] = useState('');
  const validate = useMutation({ mutationFn: (text: string) => api.validatePlaybook(text) });
  function submit(event: FormEvent) {
    event.preventDefault();
    validate.mutate(yaml);
  }
  return (
    <form onSubmit={submit} aria-label="Validate a playbook">
      <label className="field">
        <span>Playbook (YAML)</span>
        <textarea value={yaml} onChange={(e) => setYaml(e.target.value)} rows={12} spellCheck={false} className="code-input" required />
      </label>
      <button type="submit" disabled={validate.isPending}>Validate</button>
      {validate.isError ? <ProblemView error={validate.error} context="Validating" /> : null}
      {validate.isSuccess ? <><p className="ok" role="status">The playbook is valid.</p><Json value={validate.data} label="Validation result" /></> : null}
    </form>
  );
}

function DryRun() {
  const [detectionId, setDetectionId] = useState('');
  const dryRun = useMutation({ mutationFn: (id: string) => api.dryRunPlaybook(id) });
  function submit(event: FormEvent) {
    event.preventDefault();
    dryRun.mutate(detectionId.trim());
  }
  return (
    <form onSubmit={submit} aria-label="Dry run a playbook">
      <label className="field">
        <span>Detection id</span>
        <input value={detectionId} onChange={(e) => setDetectionId(e.target.value)} required autoComplete="off" />
      </label>
      <button type="submit" disabled={dryRun.isPending}>Dry run</button>
      {dryRun.isError ? <ProblemView error={dryRun.error} context="Dry run" /> : null}
      {dryRun.isSuccess ? <><p role="status">The plan the matching playbook would run, changing nothing:</p><Json value={dryRun.data} label="Dry-run plan" /></> : null}
    </form>
  );
}

export function PlaybooksPage() {
  const query = useQuery({ queryKey: keys.playbooks(), queryFn: api.playbooks });
  return (
    <Page title="Playbooks" subtitle="Named, tiered, pre-approved containment: read them, validate a change, see the plan for a detection.">
      <Section title="Loaded playbooks">
        <Loaded query={query} what="playbooks">
          {({ items }) => (
            <table>
              <caption className="visually-hidden">Playbooks</caption>
              <thead><tr><th scope="col">Playbook</th><th scope="col">Version</th><th scope="col">Matches</th><th scope="col">Tiers</th></tr></thead>
              <tbody>
                {items.map((p) => (
                  <tr key={p.id}>
                    <td>{p.title}<div className="muted small">{p.id}</div></td>
                    <td>{p.version}</td>
                    <td><Json value={p.match} label={`What ${p.id} matches`} /></td>
                    <td>{p.tiers.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Section>
      <div className="grid-2">
        <Section title="Validate a playbook"><Validate /></Section>
        <Section title="Dry run for a detection"><DryRun /></Section>
      </div>
    </Page>
  );
}
