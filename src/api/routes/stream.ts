import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import Type from 'typebox';
import { listAudit, type AuditRecord } from '../../audit/service.js';
import { READERS } from '../../domain/roles.js';
import type { Db } from '../../store/db.js';
import { responses } from '../schemas.js';
import type { Api } from '../server.js';

export interface StreamOptions {
  /** How often an open stream looks for new audit records. */
  pollMs?: number;
  /** How often an idle stream sends a comment, so proxies and clients see it is alive. */
  heartbeatMs?: number;
}

/** Records read per query: a stream that is behind catches up a page at a time, without waiting. */
const PAGE = 200;
/** Told to the client: how long to wait before reconnecting. */
const RETRY_MS = 2000;

/**
 * Live updates as server-sent events. Every state change in Cordon appends to the audit chain,
 * whichever process made it, so the stream tails `audit_log`: each open stream reads the records
 * after the last one it sent (`seq > last`, an index range scan) every `pollMs`, and resumes after
 * `Last-Event-ID` when the client reconnects. Appends are serialized by the chain's lock, so
 * records become visible in sequence order and none is skipped.
 */
export async function streamRoutes(app: Api, options: StreamOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const open = new Set<AuditTail>();
  // An open stream never ends by itself: end them all, or closing the server would wait forever.
  app.addHook('preClose', async () => {
    for (const tail of open) tail.stop();
  });

  app.get('/v1/stream', {
    config: { roles: READERS },
    schema: {
      summary: 'Server-sent events: every audit record as it is appended (event `audit`, id = its sequence number)',
      description: 'Starts with an event `ready` whose id is the sequence number the stream resumes after. '
        + 'With `Last-Event-ID`, the records after that sequence number are sent first. Comments are sent as a heartbeat.',
      tags: ['audit'],
      produces: ['text/event-stream'],
      headers: Type.Object({
        'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Resume after this audit sequence number' })),
      }),
      response: responses(200, Type.String({ description: 'text/event-stream' })),
    },
  }, async (request, reply) => {
    const header = request.headers['last-event-id'];
    const after = typeof header === 'string' ? Number(header) : undefined;
    const tail = new AuditTail(app.cordon.db, { pollMs, heartbeatMs });
    open.add(tail);
    tail.body.once('close', () => open.delete(tail));
    tail.run(after).catch((error: unknown) => {
      // The client reconnects with Last-Event-ID and loses nothing; the server keeps going.
      request.log.warn({ err: error }, 'the audit stream stopped on an error');
      tail.stop();
    });
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      .header('x-accel-buffering', 'no')
      .send(tail.body);
  });
}

/** One client's stream: the SSE text it is sent, and the loop that fills it. */
class AuditTail {
  readonly body = new PassThrough();
  private readonly stopped = new AbortController();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db, private readonly timing: { pollMs: number; heartbeatMs: number }) {
    // The client went away (Fastify destroys the body) or the stream was ended: stop polling.
    this.body.once('close', () => this.stop());
  }

  async run(after: number | undefined): Promise<void> {
    const signal = this.stopped.signal;
    let last = after ?? await this.head();
    if (signal.aborted) return;
    await this.write(`retry: ${RETRY_MS}\nid: ${last}\nevent: ready\ndata: ${JSON.stringify({ after: last })}\n\n`);
    this.heartbeat = setInterval(() => this.body.write(': heartbeat\n\n'), this.timing.heartbeatMs);
    while (!signal.aborted) {
      const records = await listAudit(this.db, { afterSeq: last, limit: PAGE });
      for (const record of records) {
        if (signal.aborted) return;
        await this.write(auditEvent(record));
        last = record.seq;
      }
      if (records.length < PAGE) await pause(this.timing.pollMs, signal);
    }
  }

  stop(): void {
    if (this.stopped.signal.aborted) return;
    this.stopped.abort();
    clearInterval(this.heartbeat);
    this.body.end();
  }

  private async head(): Promise<number> {
    const row = await this.db.selectFrom('auditLog').select((eb) => eb.fn.max('seq').as('head')).executeTakeFirst();
    return Number(row?.head ?? 0);
  }

  /** Waits for a slow client to take what it was sent, rather than buffering the whole chain. */
  private async write(text: string): Promise<void> {
    if (this.body.writableEnded) return;
    if (!this.body.write(text)) await once(this.body, 'drain', { signal: this.stopped.signal }).catch(() => undefined);
  }
}

function auditEvent(record: AuditRecord): string {
  const { seq, at, actor, actorSubject, action, subject, payload, hash } = record;
  const data = JSON.stringify({ seq, at, actor, actorSubject, action, subject, payload, hash });
  return `id: ${seq}\nevent: audit\ndata: ${data}\n\n`;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
