const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['year', 31_536_000], ['month', 2_592_000], ['day', 86_400], ['hour', 3600], ['minute', 60], ['second', 1]];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function relativeTime(at: string | Date, now = Date.now()): string {
  const seconds = Math.round((new Date(at).getTime() - now) / 1000);
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? ['second', 1];
  return relative.format(Math.round(seconds / size), unit);
}

/** A point in time, shown relative to now, with the exact UTC time for hover and assistive tech. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const iso = new Date(at).toISOString();
  return <time dateTime={iso} title={iso}>{relativeTime(iso)}</time>;
}

export function ageInDays(at: string | null | undefined, now = Date.now()): number | null {
  return at ? Math.floor((now - new Date(at).getTime()) / 86_400_000) : null;
}

export function Age({ since }: { since: string | null | undefined }) {
  const days = ageInDays(since);
  if (days === null || !since) return <span className="muted">—</span>;
  const iso = new Date(since).toISOString();
  return <time dateTime={iso} title={`since ${iso}`} className={days > 365 ? 'age-old' : days > 90 ? 'age-aging' : undefined}>{days} d</time>;
}

/** A span of time for people: `850 ms`, `4.2 s`, `3 min 20 s`, `5 h 10 min`, `2 d 3 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const parts = (big: number, bigUnit: string, small: number, smallUnit: string) => (small ? `${big} ${bigUnit} ${small} ${smallUnit}` : `${big} ${bigUnit}`);
  if (s < 3600) return parts(Math.floor(s / 60), 'min', Math.floor(s % 60), 's');
  if (s < 86_400) return parts(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
  return parts(Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3600), 'h');
}
