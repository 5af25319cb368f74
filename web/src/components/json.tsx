/** Structured data the console has no richer view for, shown as it came. */
export function Json({ value, label }: { value: unknown; label: string }) {
  return <pre className="json" aria-label={label} tabIndex={0}>{JSON.stringify(value, null, 2)}</pre>;
}
