import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES } from '../../../src/domain/detection.js';
import { api, keys } from '../api/endpoints';
import type { DetectionDetail } from '../api/types';
import { Badge } from '../components/badge';
import { CursorPager, FilterBar, useFilters } from '../components/filters';
import { Json } from '../components/json';
import { Loaded } from '../components/loaded';
import { Page, Section } from '../components/page';
import { Time } from '../components/time';

const FIELDS = [
  { name: 'type', label: 'Type', type: 'select', options: DETECTION_TYPES },
  { name: 'severity', label: 'Severity at least', type: 'select', options: SEVERITIES },
  { name: 'confidence', label: 'Confidence at least', type: 'select', options: CONFIDENCES },
  { name: 'identity', label: 'Identity id', type: 'text' },
] as const;

export function DetectionsPage() {
  const filter = useFilters(['type', 'severity', 'confidence', 'identity', 'cursor']);
  const query = useQuery({ queryKey: keys.detections(filter), queryFn: () => api.detections(filter) });
  return (
    <Page title="Detections" subtitle="What the detectors and rules found, newest first.">
      <FilterBar fields={FIELDS} label="Filter detections" />
      <Loaded query={query} what="detections">
        {(page) => (
          <>
            <table>
              <caption className="visually-hidden">Detections</caption>
              <thead>
                <tr><th scope="col">Detection</th><th scope="col">Type</th><th scope="col">Severity</th><th scope="col">Confidence</th><th scope="col">Identity</th><th scope="col">Detected</th></tr>
              </thead>
              <tbody>
                {page.items.map((d) => (
                  <tr key={d.id}>
                    <td><Link to={`/detections/${encodeURIComponent(d.id)}`}>{d.title}</Link></td>
                    <td>{d.type.replace(/_/g, ' ')}</td>
                    <td><Badge kind="severity" value={d.severity} /></td>
                    <td><Badge value={d.confidence} /></td>
                    <td>{d.identityId ? <Link to={`/identities/${encodeURIComponent(d.identityId)}`}>{d.identityId}</Link> : <span className="muted">unattributed</span>}</td>
                    <td><Time at={d.detectedAt} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.items.length === 0 ? <p>No detection matches.</p> : null}
            <CursorPager nextCursor={page.nextCursor} />
          </>
        )}
      </Loaded>
    </Page>
  );
}

function DetectionBody({ detection }: { detection: DetectionDetail }) {
  return (
    <Page
      title={detection.title}
      subtitle={<><Badge kind="severity" value={detection.severity} /> <Badge value={detection.confidence} /> {detection.type.replace(/_/g, ' ')} · rule <code>{detection.rule}</code> · detected <Time at={detection.detectedAt} /></>}
    >
      <Section title="Summary">
        <p>{detection.summary}</p>
        <dl className="facts">
          <dt>Identity</dt><dd>{detection.identityId ? <Link to={`/identities/${encodeURIComponent(detection.identityId)}`}>{detection.identityId}</Link> : 'unattributed'}</dd>
          <dt>Credential</dt><dd>{detection.credentialId ?? '—'}</dd>
          <dt>Occurred</dt><dd><Time at={detection.occurredAt} /></dd>
          <dt>OWASP NHI Top 10</dt><dd>{detection.frameworks.owaspNhi.join(', ') || '—'}</dd>
          <dt>NIST CSF 2.0</dt><dd>{detection.frameworks.nistCsf.join(', ') || '—'}</dd>
        </dl>
        {Object.keys(detection.attributes).length ? <Json value={detection.attributes} label="Detection attributes" /> : null}
      </Section>
      <Section title={`Evidence (${detection.evidence.length} event${detection.evidence.length === 1 ? '' : 's'})`} id="evidence">
        {detection.evidence.map((event) => (
          <article key={event.id} className="evidence">
            <h3>{event.type} <span className="muted">from {event.source} ({event.format})</span></h3>
            <p><Time at={event.time} /> · {event.action ?? 'no action'} → {event.target ?? 'no target'} · {event.outcome}{event.sourceIp ? ` · from ${event.sourceIp}` : ''}</p>
            {event.fingerprints.length ? <p>Secret fingerprints: {event.fingerprints.map((f) => <code key={f} className="digest">{f}</code>)}</p> : null}
            <details>
              <summary>The record as received (secrets replaced by fingerprints)</summary>
              <Json value={event.raw} label={`Raw record of event ${event.id}`} />
            </details>
          </article>
        ))}
      </Section>
    </Page>
  );
}

export function DetectionPage() {
  const { id = '' } = useParams();
  const query = useQuery({ queryKey: keys.detection(id), queryFn: () => api.detection(id) });
  if (!query.isSuccess) return <Page title="Detection"><Loaded query={query} what="the detection">{() => null}</Loaded></Page>;
  return <DetectionBody detection={query.data} />;
}
