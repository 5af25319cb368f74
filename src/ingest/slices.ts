/**
 * Records handled between two yields to the event loop. CPU work on a batch runs in slices of
 * this size so that, between slices, the store's replies are read and the next statement sent:
 * parsing one batch overlaps writing another instead of holding the store up.
 */
export const SLICE = 256;

/** Lets pending I/O callbacks run (setImmediate runs after the poll phase). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
