/**
 * The order in which batches use the store. Each batch has two turns: `insert` (its transaction
 * opens and its events are written) and `finish` (detection, audit, commit). Finishes run batch
 * after batch, so detectors see events in order and commits follow the batches; a batch's insert
 * may run while the batch before it finishes, on another connection, so the store writes rows
 * while detection runs instead of waiting for it. At most two transactions are open.
 *
 * A batch inserted while the one before is uncommitted is still stored once: the unique dedupe
 * key makes its insert wait for that commit, then skip what it stored. Locks are taken in one
 * order (events in `insert`; in `finish` the audit chain's lock, then detections, baselines and
 * jobs), so two transactions, of this process or another, cannot deadlock each other.
 */
export function storeTurns() {
  let lastInsert: Promise<unknown> = Promise.resolve();
  let lastFinish: Promise<unknown> = Promise.resolve();
  let finishBeforeLast: Promise<unknown> = Promise.resolve();

  /** Runs `insert`, then `finish` with what it returned; settles when `finish` does. */
  function run<S, R>(insert: () => Promise<S>, finish: (staged: S) => Promise<R>): Promise<R> {
    // After the previous batch's insert and once the batch before that has finished: two transactions at most.
    const inserting = Promise.all([lastInsert, finishBeforeLast]).then(insert);
    // A failed insert still takes its place in the order of finishes, so the next finish waits for the one before.
    const finishing = lastFinish.then(() => inserting).then(finish);
    lastInsert = inserting.catch(() => undefined);
    finishBeforeLast = lastFinish;
    lastFinish = finishing.catch(() => undefined);
    return finishing;
  }

  return { run };
}
