import type { ReactNode } from 'react';
import { formatDuration } from './time';

export interface DurationSeries {
  key: string;
  label: string;
  /** Marks differ by shape as well as colour. */
  shape: 'circle' | 'square';
}

export interface DurationPoint {
  key: string;
  at: Date;
  values: Record<string, number | null>;
}

const WIDTH = 720;
const HEIGHT = 240;
const LEFT = 70;
const RIGHT = 14;
const TOP = 12;
const BOTTOM = 34;
/** Durations worth a grid line, from a millisecond to a month. */
const NICE_MS = [1, 10, 100, 1000, 10_000, 60_000, 600_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000, 2_592_000_000];

function timeLabel(at: Date, span: number): string {
  const iso = at.toISOString();
  return span < 2 * 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(5, 10);
}

/**
 * Durations over time, one mark per incident and series (a scatter: each incident stands
 * alone), on a logarithmic scale (times to contain run from milliseconds to days). Plain SVG, coloured by class (the CSP admits no inline
 * style). The caller gives the same figures as a table for reading exact values.
 */
export function DurationChart({ title, points, series, children }: { title: string; points: DurationPoint[]; series: DurationSeries[]; children?: ReactNode }) {
  const values = points.flatMap((p) => series.map((s) => p.values[s.key])).filter((v): v is number => v !== null && v !== undefined);
  if (values.length === 0) return <p>No incident has been contained yet: nothing to chart.</p>;
  const floor = Math.max(1, Math.min(...values));
  let lo = 10 ** Math.floor(Math.log10(floor));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...values)));
  if (hi <= lo) hi = lo * 10;
  if (hi / lo < 100) lo = Math.max(1, hi / 100);
  const times = points.map((p) => p.at.getTime());
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 - t0 < 60_000) {
    t0 -= 30 * 60_000;
    t1 += 30 * 60_000;
  }
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * (WIDTH - LEFT - RIGHT);
  const y = (ms: number) => TOP + (1 - (Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (HEIGHT - TOP - BOTTOM);
  const yTicks = NICE_MS.filter((ms) => ms >= lo && ms <= hi);
  const xTicks = Array.from({ length: 4 }, (_, i) => t0 + ((t1 - t0) * i) / 3);
  const summary = series.map((s) => {
    const own = points.map((p) => p.values[s.key]).filter((v): v is number => typeof v === 'number');
    return `${s.label}: ${own.length} incidents${own.length ? `, from ${formatDuration(Math.min(...own))} to ${formatDuration(Math.max(...own))}` : ''}`;
  }).join('; ');
  return (
    <figure className="chart duration-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}. ${summary}.`}>
        {yTicks.map((ms) => (
          <g key={ms}>
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={y(ms)} y2={y(ms)} className="chart-grid" />
            <text x={LEFT - 6} y={y(ms) + 3} className="chart-tick" textAnchor="end">{formatDuration(ms)}</text>
          </g>
        ))}
        <line x1={LEFT} x2={LEFT} y1={TOP} y2={HEIGHT - BOTTOM} className="chart-axis" />
        <line x1={LEFT} x2={WIDTH - RIGHT} y1={HEIGHT - BOTTOM} y2={HEIGHT - BOTTOM} className="chart-axis" />
        {xTicks.map((t) => (
          <text key={t} x={x(t)} y={HEIGHT - BOTTOM + 14} className="chart-tick" textAnchor="middle">{timeLabel(new Date(t), t1 - t0)}</text>
        ))}
        <text x={(LEFT + WIDTH - RIGHT) / 2} y={HEIGHT - 3} className="chart-axis-label" textAnchor="middle">Incident opened (UTC)</text>
        <text x={12} y={(TOP + HEIGHT - BOTTOM) / 2} className="chart-axis-label" textAnchor="middle" transform={`rotate(-90 12 ${(TOP + HEIGHT - BOTTOM) / 2})`}>Duration (log scale)</text>
        {series.map((s) => {
          const own = points.filter((p) => typeof p.values[s.key] === 'number');
          return (
            <g key={s.key} className={`series-${s.key}`}>
              {own.map((p) => {
                const [cx, cy, ms] = [x(p.at.getTime()), y(p.values[s.key]!), p.values[s.key]!];
                const tip = <title>{`${s.label}: ${formatDuration(ms)} (incident opened ${p.at.toISOString()})`}</title>;
                // Filled circles under open squares: two equal durations of one incident both stay visible.
                return s.shape === 'circle'
                  ? <circle key={p.key} cx={cx} cy={cy} r={3.5} className="chart-mark">{tip}</circle>
                  : <rect key={p.key} x={cx - 5.5} y={cy - 5.5} width={11} height={11} className="chart-mark">{tip}</rect>;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        {series.map((s) => <span key={s.key}><span className={`legend-mark legend-${s.shape} series-${s.key}`} aria-hidden="true" /> {s.label} ({s.shape}s)</span>)}
      </figcaption>
      {children}
    </figure>
  );
}
