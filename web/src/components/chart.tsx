export interface Series {
  key: string;
  label: string;
}

export interface Bucket {
  label: string;
  values: Record<string, number>;
}

const WIDTH = 640;
const HEIGHT = 180;
const AXIS = 28;

/**
 * Stacked bars over time, drawn as SVG (no chart library, no inline styles: series are coloured
 * by class). The same numbers are in a table for assistive tech and for reading exact values.
 */
export function StackedBars({ title, buckets, series }: { title: string; buckets: Bucket[]; series: Series[] }) {
  const totals = buckets.map((b) => series.reduce((sum, s) => sum + (b.values[s.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (WIDTH - AXIS) / Math.max(1, buckets.length);
  const bar = Math.max(2, slot * 0.7);
  const scale = (HEIGHT - 20) / max;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 20}`} role="img" aria-label={`${title}: ${totals.reduce((a, b) => a + b, 0)} in total, at most ${max} in one bucket`}>
        <line x1={AXIS} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} className="chart-axis" />
        <text x={AXIS - 4} y={HEIGHT - max * scale + 4} className="chart-tick" textAnchor="end">{max}</text>
        <text x={AXIS - 4} y={HEIGHT} className="chart-tick" textAnchor="end">0</text>
        {buckets.map((bucket, i) => {
          let y = HEIGHT;
          const x = AXIS + i * slot + (slot - bar) / 2;
          return (
            <g key={bucket.label}>
              {series.map((s) => {
                const height = (bucket.values[s.key] ?? 0) * scale;
                y -= height;
                return height > 0 ? <rect key={s.key} x={x} y={y} width={bar} height={height} className={`series-${s.key}`}><title>{`${bucket.label}: ${bucket.values[s.key]} ${s.label}`}</title></rect> : null;
              })}
              {i % Math.ceil(buckets.length / 7) === 0 ? <text x={x + bar / 2} y={HEIGHT + 14} className="chart-tick" textAnchor="middle">{bucket.label}</text> : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        {series.map((s) => <span key={s.key}><span className={`legend-mark series-${s.key}`} aria-hidden="true" /> {s.label}</span>)}
      </figcaption>
      <div className="visually-hidden">
        <table>
          <caption>{title}</caption>
          <thead><tr><th scope="col">Day</th>{series.map((s) => <th key={s.key} scope="col">{s.label}</th>)}</tr></thead>
          <tbody>{buckets.map((b) => <tr key={b.label}><th scope="row">{b.label}</th>{series.map((s) => <td key={s.key}>{b.values[s.key] ?? 0}</td>)}</tr>)}</tbody>
        </table>
      </div>
    </figure>
  );
}
