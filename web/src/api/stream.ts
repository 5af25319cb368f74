import { EventSourceParserStream } from 'eventsource-parser/stream';
import { ApiProblem, request } from './client';
import type { AuditEvent } from './types';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface StreamHandlers {
  /** The stream is open; `after` is the audit sequence number it resumes after. */
  onReady(after: number, reconnected: boolean): void;
  onAudit(record: AuditEvent): void;
  onStatus(status: StreamStatus, problem?: ApiProblem): void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Follows GET /v1/stream until `signal` aborts. EventSource cannot send an Authorization header,
 * so the stream is read with fetch and parsed as server-sent events; on a drop it reconnects with
 * `Last-Event-ID`, and the server sends what was missed. A refused token stops it (the session
 * signs out); anything else is retried with backoff.
 */
export async function followAuditStream(handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  let lastEventId: string | undefined;
  let retryMs = 2000;
  let failures = 0;
  let opened = false;
  while (!signal.aborted) {
    handlers.onStatus(opened ? 'reconnecting' : 'connecting');
    try {
      const response = await request('/v1/stream', {
        accept: 'text/event-stream', signal, headers: lastEventId ? { 'last-event-id': lastEventId } : {},
      });
      const events = response.body!
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream({ onRetry: (ms) => { retryMs = ms; } }));
      for await (const event of iterate(events)) {
        if (event.id !== undefined) lastEventId = event.id;
        if (event.event === 'ready') {
          handlers.onReady(Number(event.id ?? 0), opened);
          handlers.onStatus('live');
          opened = true;
          failures = 0;
        } else if (event.event === 'audit') {
          handlers.onAudit(JSON.parse(event.data) as AuditEvent);
        }
      }
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ApiProblem && (error.status === 401 || error.status === 403)) {
        handlers.onStatus('stopped', error);
        return;
      }
    }
    if (signal.aborted) break;
    failures++;
    handlers.onStatus('reconnecting');
    await pause(Math.min(retryMs * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS), signal);
  }
  handlers.onStatus('stopped');
}

/** ReadableStream is async-iterable in Chromium and Firefox, not yet in every browser: read it by hand. */
async function* iterate<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
