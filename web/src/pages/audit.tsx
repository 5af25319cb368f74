import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, keys } from '../api/endpoints';
import type { AuditVerification } from '../api/types';
import { FilterBar, useFilters } from '../components/filters';
import { Json } from '../components/json';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { Time } from '../components/time';
import { useLive } from '../live/live';

const PAGE = 50;

function VerificationResult({ result, head }: { result: AuditVerification; head: number | null }) {
  const since = head !== null && result.headSeq !== null ? head - result.headSeq : 0;
  if (!result.ok) {
    return (
      <p className="warn verification" role="alert">
        <strong>Chain broken at record #{result.firstBad?.seq}</strong>: {result.firstBad?.reason}. {result.checked} records before it hold.
      </p>
    );
  }
  return (
    <div className="verification">
      <p className="ok"><strong>Chain verified</strong>: {result.checked} records, head #{result.headSeq ?? 0}.</p>
      <p className="small">Head hash <code className="digest">{result.headHash}</code>: keep a copy elsewhere to detect a truncated tail.</p>
      {since > 0 ? <p className="muted">{since} record{since === 1 ? '' : 's'} appended since this verification.</p> : null}
    </div>
  );
}

function Verification() {
  const { head } = useLive();
  const query = useQuery({ queryKey: keys.auditVerification(), queryFn: api.verifyAudit, staleTime: Infinity });
  return (
    <Section title="Chain status" actions={<button type="button" className="secondary" onClick={() => void query.refetch()} disabled={query.isFetching}>{query.isFetching ? 'Verifying…' : 'Verify again'}</button>}>
      <Loaded query={query} what="the chain verification">{(result) => <VerificationResult result={result} head={head} />}</Loaded>
    </Section>
  );
}

const FIELDS = [
  { name: 'action', label: 'Action', type: 'text', placeholder: 'e.g. detection.created' },
  { name: 'subject', label: 'Subject', type: 'text', placeholder: 'e.g. identity:svc-payments-api' },
] as const;

/**
 * Records in chain order. Unfiltered, sequence numbers have no gaps, so the page shown by default
 * is the latest one (from the stream's head) and earlier pages are found by arithmetic; filtered,
 * the list reads forward from the start.
 */
function Entries() {
  const { head } = useLive();
  const [params] = useSearchParams();
  const { action, subject } = useFilters(['action', 'subject']);
  const filtered = Boolean(action || subject);
  const asked = params.get('after');
  const after = asked !== null ? Number(asked) : filtered ? 0 : head === null ? null : Math.max(0, head - PAGE);
  const filter = { action, subject, after: after ?? 0, limit: PAGE };
  const query = useQuery({ queryKey: keys.audit(filter), queryFn: () => api.audit(filter), enabled: after !== null, placeholderData: keepPreviousData });
  const link = (value: number | null) => {
    const next = new URLSearchParams(params);
    if (value === null) next.delete('after');
    else next.set('after', String(value));
    return `?${next.toString()}`;
  };
  return (
    <Section title="Entries">
      <FilterBar fields={FIELDS} label="Filter audit entries" />
      <Loaded query={query} what="audit entries">
        {(page) => (
          <>
            <table className="audit-table">
              <caption className="visually-hidden">Audit entries in chain order</caption>
              <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Actor</th><th scope="col">Payload</th><th scope="col">Hash</th></tr></thead>
              <tbody>
                {page.items.map((r) => (
                  <tr key={r.seq}>
                    <td>{r.seq}</td><td><Time at={r.at} /></td><td>{r.action}</td><td className="break">{r.subject}</td>
                    <td>{r.actorSubject}<div className="muted small">{r.actor}</div></td>
                    <td><details><summary>payload</summary><Json value={r.payload} label={`Payload of record ${r.seq}`} /></details></td>
                    <td><code className="digest" title={r.hash}>{r.hash.slice(0, 12)}…</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.items.length === 0 ? <p>No entry matches.</p> : null}
            <nav aria-label="Pages" className="pager">
              {!filtered && after !== null && after > 0 ? <Link to={link(Math.max(0, after - PAGE))}>Earlier</Link> : null}
              {page.nextAfter !== null ? <Link to={link(page.nextAfter)}>Later</Link> : null}
              {asked !== null ? <Link to={link(null)}>{filtered ? 'From the start' : 'Latest'}</Link> : null}
            </nav>
          </>
        )}
      </Loaded>
    </Section>
  );
}

export function AuditPage() {
  return (
    <Page title="Audit" subtitle="Every state change, in an append-only SHA-256 hash chain.">
      <Verification />
      <Entries />
    </Page>
  );
}
