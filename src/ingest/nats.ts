import { EventEmitter } from 'node:events';
import { AckPolicy, connect, type JsMsg, type NatsConnection } from 'nats';
import type { Actor } from '../domain/roles.js';
import type { Logger } from '../runtime/logger.js';
import type { IngestService, IngestSummary } from './pipeline.js';

export interface NatsInputOptions {
  servers: string;
  /** JetStream stream holding the subject; created (file storage) when it does not exist. */
  stream: string;
  subject: string;
  /** Durable consumer name: processes sharing it share the messages, and a restart resumes. */
  durable: string;
  /** Messages per batch (one pipeline batch, one transaction). */
  batch?: number;
  /** How long a fetch waits for messages before returning what it has (at least 1 s, JetStream's minimum). */
  waitMs?: number;
  /** Delay before a batch that could not be stored is delivered again. */
  retryMs?: number;
}

export interface NatsInput {
  /** Emits `batch` (IngestSummary) after each batch is stored and acknowledged. */
  events: EventEmitter;
  stop(): Promise<void>;
}

const decoder = new TextDecoder();

/**
 * Scale-out input: a durable JetStream pull consumer feeding the same pipeline. Each fetched
 * batch is ingested as one batch (every message one record, or an array of records), and the
 * messages are acknowledged only once the batch is stored; a bad record is stored as a dead
 * letter, so it is acknowledged too. When the store fails, the batch is negatively acknowledged
 * and delivered again after `retryMs`. The next batch is fetched while one is being stored.
 */
export async function startNatsInput(deps: { events: Pick<IngestService, 'ingest'>; logger: Logger }, options: NatsInputOptions): Promise<NatsInput> {
  const nc: NatsConnection = await connect({ servers: options.servers, name: `cordon-ingest-${process.pid}` });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.info(options.stream).catch(() => jsm.streams.add({ name: options.stream, subjects: [options.subject] }));
  await jsm.consumers.add(options.stream, { durable_name: options.durable, ack_policy: AckPolicy.Explicit, filter_subject: options.subject });
  const consumer = await nc.jetstream().consumers.get(options.stream, options.durable);
  const actor: Actor = { id: `system:nats:${options.durable}`, subject: `nats:${options.stream}` };
  const events = new EventEmitter();
  let stopped = false;

  async function ingestBatch(messages: JsMsg[]): Promise<void> {
    // One line per message: a message that is JSON is written on one line, one that is not stays one (bad) record.
    const lines = messages.map((m) => {
      const text = decoder.decode(m.data);
      try {
        return JSON.stringify(JSON.parse(text));
      } catch {
        return text.replace(/\r?\n/g, ' ') || '""';
      }
    });
    let summary: IngestSummary;
    try {
      summary = await deps.events.ingest(lines.join('\n'), { channel: 'nats' }, actor);
    } catch (error) {
      deps.logger.warn({ err: error, messages: messages.length }, 'a NATS batch could not be stored; it will be delivered again');
      for (const m of messages) m.nak(options.retryMs ?? 5000);
      return;
    }
    for (const m of messages) m.ack();
    events.emit('batch', summary);
  }

  const loop = (async () => {
    // Two batches at once: the next is fetched and parsed while the one before is stored.
    const storing = new Set<Promise<void>>();
    while (!stopped) {
      try {
        const fetched = await consumer.fetch({ max_messages: options.batch ?? 500, expires: Math.max(1000, options.waitMs ?? 1000) });
        const messages: JsMsg[] = [];
        for await (const m of fetched) messages.push(m);
        if (messages.length) {
          const stored: Promise<void> = ingestBatch(messages)
            .catch((error) => deps.logger.error({ err: error }, 'acknowledging a NATS batch failed'))
            .finally(() => storing.delete(stored));
          storing.add(stored);
          if (storing.size >= 2) await Promise.race(storing);
        }
      } catch (error) {
        if (!stopped) deps.logger.error({ err: error }, 'fetching from NATS failed');
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 5000));
      }
    }
    await Promise.all(storing);
  })();

  return {
    events,
    async stop() {
      stopped = true;
      await loop;
      await nc.drain();
    },
  };
}
