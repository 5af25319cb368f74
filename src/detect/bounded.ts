/**
 * Counts per key, keeping at most `max` keys: when full, a new key replaces the least counted.
 * Baselines stay small whatever an identity does.
 */
export function countKey(counts: Record<string, number>, key: string, max: number): void {
  if (key in counts) {
    counts[key]!++;
    return;
  }
  const keys = Object.keys(counts);
  if (keys.length >= max) {
    let least = keys[0]!;
    for (const k of keys) if (counts[k]! < counts[least]!) least = k;
    delete counts[least];
  }
  counts[key] = 1;
}
