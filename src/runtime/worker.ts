import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { CordonError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import { claimJobs, completeJob, failJob, type Job } from '../store/jobs.js';
import type { Logger } from './logger.js';

export type JobHandler = (job: Job) => Promise<Record<string, unknown>>;

export interface WorkerOptions {
  db: Db;
  logger: Logger;
  handlers: Record<string, JobHandler>;
  /** Emits `queued` when a job is queued in this process. */
  signal?: EventEmitter;
  /** How often to look for work queued by other processes. */
  pollMs?: number;
  concurrency?: number;
  leaseMs?: number;
}

export interface Worker {
  /** Emits `finished` (job) after each job ends, succeeded or not. */
  events: EventEmitter;
  /** Look for work now (called after a job is queued in this process). */
  wake(): void;
  stop(): Promise<void>;
}

/** Runs queued jobs until stopped; several workers in several processes share one queue. */
export function startWorker(options: WorkerOptions): Worker {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const events = new EventEmitter();
  const kinds = Object.keys(options.handlers);
  const concurrency = options.concurrency ?? 4;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const running = new Set<Promise<void>>();
  let stopped = false;
  /** Set when there may be work, so a wake-up during a claim is not lost. */
  let pending = true;
  let wakeUp: (() => void) | undefined;
  const signal = () => {
    pending = true;
    wakeUp?.();
  };
  let timer: NodeJS.Timeout | undefined;

  async function run(job: Job) {
    const log = options.logger.child({ job: job.id, kind: job.kind, attempt: job.attempts });
    try {
      const result = await options.handlers[job.kind]!(job);
      await completeJob(options.db, job.id, id, result);
      log.info('job succeeded');
      events.emit('finished', { ...job, status: 'succeeded', result });
    } catch (error) {
      // Bad input or a missing target will not get better by retrying.
      const retryable = !(error instanceof InvalidInputError || error instanceof NotFoundError);
      const message = error instanceof CordonError ? `${error.code}: ${error.message}` : String((error as Error).message ?? error);
      const updated = await failJob(options.db, job.id, id, message, retryable).catch(() => undefined);
      log.warn({ err: message, retrying: updated?.status === 'queued' }, 'job failed');
      events.emit('finished', updated ?? { ...job, status: 'failed', error: message });
    }
  }

  async function loop() {
    while (!stopped) {
      pending = false;
      let claimed: Job[] = [];
      const free = concurrency - running.size;
      if (free > 0) {
        try {
          claimed = await claimJobs(options.db, id, kinds, free, leaseMs);
        } catch (error) {
          if (!stopped) options.logger.error({ err: error }, 'claiming jobs failed');
        }
      }
      for (const job of claimed) {
        const task = run(job).finally(() => {
          running.delete(task);
          signal();
        });
        running.add(task);
      }
      if (pending || (claimed.length > 0 && claimed.length === free)) continue;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, options.pollMs ?? 1000);
      });
      clearTimeout(timer);
      wakeUp = undefined;
    }
  }

  options.signal?.on('queued', signal);
  const looping = loop();
  return {
    events,
    wake: signal,
    async stop() {
      stopped = true;
      options.signal?.off('queued', signal);
      wakeUp?.();
      await looping;
      await Promise.allSettled(running);
    },
  };
}
