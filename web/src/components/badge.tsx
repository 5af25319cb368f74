/** A short state word with a colour that repeats it (never colour alone). */
export function Badge({ value, kind }: { value: string; kind?: 'severity' | 'status' | 'state' | 'decision' | 'criticality' }) {
  return <span className={`badge badge-${kind ?? 'plain'} badge-${value.replace(/[^a-z0-9_-]/gi, '')}`}>{value.replace(/_/g, ' ')}</span>;
}
