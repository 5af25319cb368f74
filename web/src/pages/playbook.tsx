import { useMutation, useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, keys } from '../api/endpoints';
import type { Playbook, PlaybookVersion } from '../api/types';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { describeMatch, inWrittenOrder, StepsTable } from '../components/playbook';
import { ProblemView } from '../components/problem';
import { Time } from '../components/time';
import { useSession } from '../session/session';

/** The YAML library comes with the first playbook shown as YAML. */
const PlaybookYaml = lazy(() => import('../components/playbook-yaml'));

function Versions({ playbook, versions }: { playbook: Playbook; versions: PlaybookVersion[] }) {
  const latest = Math.max(...versions.map((v) => v.version));
  return (
    <table>
      <caption className="visually-hidden">Versions, newest first</caption>
      <thead><tr><th scope="col">Version</th><th scope="col">Digest</th><th scope="col">From</th><th scope="col">By</th><th scope="col">When</th></tr></thead>
      <tbody>
        {[...versions].sort((a, b) => b.version - a.version).map((v) => (
          <tr key={v.version} aria-current={v.version === playbook.version ? 'true' : undefined} className={v.version === playbook.version ? 'current' : undefined}>
            <td>
              {v.version === playbook.version ? <strong>{v.version} (shown)</strong> : <Link to={`?version=${v.version}`}>Version {v.version}</Link>}
              {v.version === latest ? <span className="muted small"> in force</span> : null}
            </td>
            <td><code className="digest" title={v.digest}>{v.digest.slice(0, 16)}…</code></td>
            <td>{v.origin}</td><td>{v.createdBy}</td><td><Time at={v.createdAt} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PlaybookBody({ playbook, versions }: { playbook: Playbook; versions: PlaybookVersion[] }) {
  const { can } = useSession();
  const navigate = useNavigate();
  const copy = useMutation({
    mutationFn: async () => (await import('yaml')).stringify(inWrittenOrder(playbook.document)),
    onSuccess: (draft) => navigate('/playbooks', { state: { draft } }),
  });
  const escalation = playbook.escalation as { always?: boolean; reason?: string; team?: string };
  return (
    <Page
      title={playbook.title}
      subtitle={<><code>{playbook.id}</code> · version {playbook.version} of {versions.length} · priority {playbook.priority} · from {playbook.origin} <Time at={playbook.createdAt} /></>}
      actions={(
        <>
          <button type="button" className="secondary" onClick={() => copy.mutate()} disabled={copy.isPending}>Validate a copy</button>
          {can.respond ? <button type="button" className="secondary" onClick={() => navigate('/playbooks', { state: { playbook: playbook.id } })}>Dry run it</button> : null}
        </>
      )}
    >
      {copy.isError ? <ProblemView error={copy.error} context="Copying the playbook" /> : null}
      <Section title="What it answers">
        {playbook.description ? <p>{playbook.description}</p> : null}
        <dl className="facts">
          <dt>Matches</dt><dd>{describeMatch(playbook.match)}</dd>
          <dt>Escalation</dt><dd>{escalation.always ? `always, once the steps ran${escalation.team ? `, to ${escalation.team}` : ''}${escalation.reason ? `: ${escalation.reason}` : ''}` : 'when a guard, a failure or a missing connector calls for it'}</dd>
          <dt>Digest</dt><dd><code className="digest">{playbook.digest}</code></dd>
        </dl>
      </Section>
      <Section title={`Steps (${playbook.steps.length})`} id="steps"><StepsTable steps={playbook.steps} /></Section>
      <div className="grid-2">
        <Section title="Versions"><Versions playbook={playbook} versions={versions} /></Section>
        <Section title="As written">
          <Suspense fallback={<p className="loading" role="status">Loading the YAML view…</p>}>
            <PlaybookYaml document={inWrittenOrder(playbook.document)} label={`Playbook ${playbook.id} version ${playbook.version} as YAML`} />
          </Suspense>
        </Section>
      </div>
    </Page>
  );
}

export function PlaybookPage() {
  const { id = '' } = useParams();
  const [params] = useSearchParams();
  const version = params.get('version') ? Number(params.get('version')) : undefined;
  const query = useQuery({ queryKey: keys.playbook(id, version), queryFn: () => api.playbook(id, version) });
  if (!query.isSuccess) return <Page title={`Playbook ${id}`}><Loaded query={query} what="the playbook">{() => null}</Loaded></Page>;
  return <PlaybookBody playbook={query.data.playbook} versions={query.data.versions} />;
}
