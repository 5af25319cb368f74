import { useMutation, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, keys } from '../../api/endpoints';
import type { EvidenceItem, IncidentDetail } from '../../api/types';
import { Loaded } from '../loaded';
import { ProblemView } from '../problem';
import { Time } from '../time';
import { saveBlob } from './download';

function ChainStatus({ incidentId }: { incidentId: string }) {
  const query = useQuery({ queryKey: keys.evidenceVerification(incidentId), queryFn: () => api.verifyEvidence(incidentId) });
  return (
    <div className="chain-status">
      <Loaded query={query} what="the evidence chain's verification">
        {(result) => result.ok
          ? <p className="ok" role="status"><strong>Evidence chain verified</strong>: {result.checked} item{result.checked === 1 ? '' : 's'}, each hash recomputed from its fields and the one before.</p>
          : <p className="warn" role="alert"><strong>Evidence chain broken at item #{result.firstBad?.seq}</strong> ({result.firstBad?.id}): {result.firstBad?.reason}. {result.checked} items before it hold.</p>}
      </Loaded>
      <button type="button" className="secondary" onClick={() => void query.refetch()} disabled={query.isFetching}>{query.isFetching ? 'Verifying…' : 'Verify again'}</button>
    </div>
  );
}

function RefLink({ item }: { item: EvidenceItem }) {
  if (!item.ref) return <span className="muted">—</span>;
  const [kind, id = ''] = item.ref.split(/:(.*)/s);
  if (kind === 'detection') return <Link to={`/detections/${encodeURIComponent(id)}`}>{item.ref}</Link>;
  if (kind === 'identity') return <Link to={`/identities/${encodeURIComponent(id)}`}>{item.ref}</Link>;
  return <span className="break">{item.ref}</span>;
}

/** Items hashed into the incident's own chain (detections, events, blast radii, notes, proofs), with the chain's status. */
export function Evidence({ incident }: { incident: IncidentDetail }) {
  const exportChain = useMutation({
    mutationFn: async () => saveBlob(await api.evidenceExport(incident.id), `incident-${incident.id}-evidence.json`),
  });
  return (
    <>
      <ChainStatus incidentId={incident.id} />
      {incident.evidence.length ? (
        <table className="evidence-table">
          <caption>Evidence items in chain order; each hash covers the item and the hash before it</caption>
          <thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Item</th><th scope="col">Collected</th><th scope="col">Content SHA-256</th><th scope="col">Hash</th></tr></thead>
          <tbody>
            {incident.evidence.map((item) => (
              <tr key={item.id}>
                <td>{item.seq}</td>
                <td>{item.kind.replace(/_/g, ' ')}</td>
                <td>{item.title}<div className="small"><RefLink item={item} /></div></td>
                <td><Time at={item.collectedAt} /><div className="muted small">{item.collectedBy}</div></td>
                <td><code className="digest">{item.contentDigest}</code></td>
                <td><code className="digest" title={`previous: ${item.prevHash}`}>{item.hash}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : <p>No evidence has been collected yet.</p>}
      <button type="button" className="secondary" onClick={() => exportChain.mutate()} disabled={exportChain.isPending}>Download the evidence with contents (JSON)</button>
      {exportChain.isError ? <ProblemView error={exportChain.error} context="Downloading the evidence" /> : null}
    </>
  );
}
