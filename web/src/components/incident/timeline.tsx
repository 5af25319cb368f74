import { useState } from 'react';
import { Link } from 'react-router';
import type { TimelineEntry } from '../../api/types';
import { Badge } from '../badge';

function RefLink({ entry }: { entry: TimelineEntry }) {
  if (!entry.ref) return null;
  const colon = entry.ref.indexOf(':');
  const [kind, id] = [entry.ref.slice(0, colon), entry.ref.slice(colon + 1)];
  if (kind === 'detection') return <> · <Link to={`/detections/${encodeURIComponent(id)}`}>detection</Link></>;
  // A run's card is on this page.
  if (kind === 'action') return <> · <a href={`#run-${id}`}>step</a></>;
  return null;
}

/** The exact time, to the second, in UTC: a timeline is read for order and gaps. */
function Stamp({ at }: { at: string }) {
  const iso = new Date(at).toISOString();
  return <time dateTime={iso} className="stamp">{iso.slice(0, 10)} {iso.slice(11, 19)}</time>;
}

/** Every signal, detection, step, approval, note, task and status change, in time order, with who did it. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  const [signals, setSignals] = useState(true);
  if (!entries.length) return <p>Nothing has happened yet.</p>;
  const shown = signals ? entries : entries.filter((e) => e.kind !== 'event');
  const events = entries.length - entries.filter((e) => e.kind !== 'event').length;
  return (
    <>
      {events ? (
        <label className="field inline small">
          <input type="checkbox" checked={signals} onChange={(e) => setSignals(e.target.checked)} />
          <span>Show the {events} signal{events === 1 ? '' : 's'} the detections rest on</span>
        </label>
      ) : null}
      <ol className="timeline" aria-label="Timeline entries, oldest first" tabIndex={0}>
        {shown.map((entry, i) => (
          <li key={i}>
            <Stamp at={entry.at} /> <Badge value={entry.kind} /> {entry.summary}{' '}
            <span className="muted small">({entry.actor}<RefLink entry={entry} />)</span>
          </li>
        ))}
      </ol>
    </>
  );
}
