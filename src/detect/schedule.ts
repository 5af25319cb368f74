import type { Schedule } from '../ingest/resolve.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      return undefined;
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Whether a time falls inside an identity's declared schedule (days and `HH:MM-HH:MM` in its
 * time zone; a window that ends before it starts runs past midnight). Unknown zone: inside.
 */
export function withinSchedule(schedule: Schedule, time: Date): boolean {
  const f = formatter(schedule.timezone);
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(schedule.hours);
  if (!f || !m) return true;
  const parts = Object.fromEntries(f.formatToParts(time).map((p) => [p.type, p.value]));
  const day = DAYS.indexOf(String(parts.weekday).slice(0, 3).toLowerCase());
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  const days = new Set(schedule.days);
  if (start <= end) return days.has(DAYS[day]!) && minute >= start && minute < end;
  // Overnight: the part after midnight belongs to the previous day's window.
  if (minute >= start) return days.has(DAYS[day]!);
  return minute < end && days.has(DAYS[(day + 6) % 7]!);
}
