import { useMutation, useQuery } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES, type Confidence, type DetectionType, type Severity } from '../../../src/domain/detection.js';
import { ApiProblem } from '../api/client';
import { api, keys } from '../api/endpoints';
import type { DryRunRequest, Playbook, Problem } from '../api/types';
import { DryRunResult } from '../components/dry-run';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { describeMatch } from '../components/playbook';
import { ProblemView } from '../components/problem';
import { Time } from '../components/time';
import { useSession } from '../session/session';

/** What the playbook pages hand to this one: a copy to validate, a playbook to dry-run. */
interface Handed {
  draft?: string;
  playbook?: string;
}

/** `request body:13:19` → line 13, column 19. */
function position(source: string | undefined): { line: number; column: number } | null {
  const match = /:(\d+):(\d+)$/.exec(source ?? '');
  return match ? { line: Number(match[1]), column: Number(match[2]) } : null;
}

/** The API's problems with a playbook, each at its line and column, which the editor can jump to. */
function ValidationErrors({ problem, goTo }: { problem: Problem; goTo(line: number, column: number): void }) {
  const errors = problem.errors ?? [];
  return (
    <div role="alert" className="problem">
      <p className="problem-title"><strong>The playbook is invalid</strong> <span className="problem-code">{problem.status} {problem.code}</span></p>
      <p>{errors.length} problem{errors.length === 1 ? '' : 's'}; nothing was stored.</p>
      <ul className="problem-fields validation-errors">
        {errors.map((issue, i) => {
          const at = position(issue.source);
          return (
            <li key={i}>
              {at ? <button type="button" className="position" onClick={() => goTo(at.line, at.column)} aria-label={`Go to line ${at.line}, column ${at.column}`}>{at.line}:{at.column}</button> : null}{' '}
              <code>{issue.path || '/'}</code> {issue.message}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Validate({ draft }: { draft?: string }) {
  const [yaml, setYaml] = useState(draft ?? '');
  const editor = useRef<HTMLTextAreaElement>(null);
  const validate = useMutation({ mutationFn: (text: string) => api.validatePlaybook(text) });
  function submit(event: FormEvent) {
    event.preventDefault();
    validate.mutate(yaml);
  }
  function goTo(line: number, column: number) {
    const area = editor.current;
    if (!area) return;
    const lines = area.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + Math.max(0, column - 1);
    const end = lines.slice(0, line).reduce((sum, l) => sum + l.length + 1, 0) - 1;
    area.focus();
    area.setSelectionRange(Math.min(start, end), Math.max(start, end));
  }
  const invalid = validate.error instanceof ApiProblem && validate.error.problem.errors?.some((e) => e.source) ? validate.error.problem : null;
  return (
    <form onSubmit={submit} aria-label="Validate a playbook">
      <label className="field">
        <span>Playbook (YAML, as in playbooks/)</span>
        <textarea ref={editor} value={yaml} onChange={(e) => { setYaml(e.target.value); validate.reset(); }} rows={14} spellCheck={false} className="code-input" required />
      </label>
      <button type="submit" disabled={validate.isPending}>Validate</button>
      <p className="hint">Validating stores nothing. An admin stores a new version with <code>POST /v1/playbooks</code>, or by changing the file.</p>
      {invalid ? <ValidationErrors problem={invalid} goTo={goTo} /> : validate.isError ? <ProblemView error={validate.error} context="Validating" /> : null}
      {validate.isSuccess ? (
        <p className="ok" role="status">
          Valid: playbook <code>{validate.data.id}</code> with {validate.data.steps} step{validate.data.steps === 1 ? '' : 's'}, digest <code className="digest">{validate.data.digest}</code>.
        </p>
      ) : null}
    </form>
  );
}

interface Described {
  type: DetectionType;
  severity: Severity;
  confidence: Confidence;
  identityId: string;
  credentialId: string;
}

function DryRun({ playbooks, handed }: { playbooks: Playbook[]; handed?: string }) {
  const [kind, setKind] = useState<'described' | 'stored'>('described');
  const [detectionId, setDetectionId] = useState('');
  const [described, setDescribed] = useState<Described>({ type: 'secret_exposure', severity: 'high', confidence: 'confirmed', identityId: '', credentialId: '' });
  const [playbook, setPlaybook] = useState(handed ?? '');
  const dryRun = useMutation({ mutationFn: (body: DryRunRequest) => api.dryRunPlaybook(body) });
  function submit(event: FormEvent) {
    event.preventDefault();
    const chosen = playbook ? { playbook } : {};
    dryRun.mutate(kind === 'stored'
      ? { detectionId: detectionId.trim(), ...chosen }
      : {
        type: described.type, severity: described.severity, confidence: described.confidence, identityId: described.identityId.trim() || null,
        ...(described.credentialId.trim() ? { credentialId: described.credentialId.trim() } : {}), ...chosen,
      });
  }
  const set = <K extends keyof Described>(key: K, value: Described[K]) => setDescribed({ ...described, [key]: value });
  return (
    <>
      <form onSubmit={submit} aria-label="Dry run a playbook">
        <fieldset className="choice">
          <legend>Plan the response to</legend>
          <label className="field inline"><input type="radio" name="dry-run-kind" checked={kind === 'described'} onChange={() => setKind('described')} /> <span>A described detection</span></label>
          <label className="field inline"><input type="radio" name="dry-run-kind" checked={kind === 'stored'} onChange={() => setKind('stored')} /> <span>A stored detection</span></label>
        </fieldset>
        {kind === 'stored' ? (
          <label className="field">
            <span>Detection id</span>
            <input value={detectionId} onChange={(e) => setDetectionId(e.target.value)} required autoComplete="off" spellCheck={false} />
          </label>
        ) : (
          <div className="form-grid">
            <label className="field">
              <span>Detection type</span>
              <select value={described.type} onChange={(e) => set('type', e.target.value as DetectionType)}>{DETECTION_TYPES.map((t) => <option key={t} value={t}>{t.replace(/_/g, ' ')}</option>)}</select>
            </label>
            <label className="field">
              <span>Severity</span>
              <select value={described.severity} onChange={(e) => set('severity', e.target.value as Severity)}>{SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}</select>
            </label>
            <label className="field">
              <span>Confidence</span>
              <select value={described.confidence} onChange={(e) => set('confidence', e.target.value as Confidence)}>{CONFIDENCES.map((c) => <option key={c} value={c}>{c}</option>)}</select>
            </label>
            <label className="field">
              <span>Identity id (empty: none known)</span>
              <input value={described.identityId} onChange={(e) => set('identityId', e.target.value)} autoComplete="off" spellCheck={false} placeholder="e.g. svc-payments-api" />
            </label>
            <label className="field">
              <span>Credential id (optional)</span>
              <input value={described.credentialId} onChange={(e) => set('credentialId', e.target.value)} autoComplete="off" spellCheck={false} />
            </label>
          </div>
        )}
        <label className="field">
          <span>Playbook</span>
          <select value={playbook} onChange={(e) => setPlaybook(e.target.value)}>
            <option value="">The one that matches</option>
            {playbooks.map((p) => <option key={p.id} value={p.id}>{p.title} ({p.id})</option>)}
          </select>
        </label>
        <button type="submit" disabled={dryRun.isPending}>{dryRun.isPending ? 'Planning…' : 'Dry run'}</button>
        {dryRun.isError ? <ProblemView error={dryRun.error} context="Dry run" /> : null}
      </form>
      {dryRun.isSuccess ? <DryRunResult plan={dryRun.data} /> : null}
    </>
  );
}

export function PlaybooksPage() {
  const { can, me } = useSession();
  const handed = (useLocation().state ?? {}) as Handed;
  const query = useQuery({ queryKey: keys.playbooks(), queryFn: api.playbooks });
  return (
    <Page title="Playbooks" subtitle="Named, tiered, pre-approved containment: read them, validate a change, see the exact plan for a detection.">
      <Section title="Playbooks in force">
        <Loaded query={query} what="playbooks">
          {({ items }) => items.length ? (
            <table>
              <caption className="visually-hidden">Playbooks in force, the latest version of each</caption>
              <thead><tr><th scope="col">Playbook</th><th scope="col">Version</th><th scope="col">Priority</th><th scope="col">Answers</th><th scope="col">Steps</th><th scope="col">Since</th></tr></thead>
              <tbody>
                {items.map((p) => (
                  <tr key={p.id}>
                    <td><Link to={`/playbooks/${encodeURIComponent(p.id)}`}>{p.title}</Link><div className="muted small">{p.id}</div></td>
                    <td>{p.version}</td>
                    <td>{p.priority}</td>
                    <td>{describeMatch(p.match)}</td>
                    <td>{p.steps.length}</td>
                    <td><Time at={p.createdAt} /><div className="muted small">{p.origin}</div></td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : <p>No playbook is loaded: every detection is escalated to people.</p>}
        </Loaded>
      </Section>
      <div className="grid-2">
        <Section title="Validate a playbook"><Validate key={handed.draft ?? ''} draft={handed.draft} /></Section>
        <Section title="Dry run">
          {can.respond
            ? <DryRun playbooks={query.data?.items ?? []} handed={handed.playbook} key={handed.playbook ?? ''} />
            : <p className="muted">A dry run reads the target systems and needs the responder or admin role; you are signed in as {me.role}.</p>}
        </Section>
      </div>
    </Page>
  );
}
