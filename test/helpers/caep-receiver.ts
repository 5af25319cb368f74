import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSet {
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
  status: number;
}

/**
 * An RFC 8935 push receiver on localhost: it records every request and answers with the statuses
 * it was given in turn (202 once they run out). Emits `set` for each request.
 */
export interface CaepReceiver {
  endpoint: string;
  received: ReceivedSet[];
  events: EventEmitter;
  /** Resolves when `count` requests in all have been received. */
  waitFor(count: number): Promise<ReceivedSet[]>;
  close(): Promise<void>;
}

export async function startCaepReceiver(statuses: number[] = []): Promise<CaepReceiver> {
  const received: ReceivedSet[] = [];
  const events = new EventEmitter();
  const queue = [...statuses];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const status = queue.shift() ?? 202;
      const set = { contentType: request.headers['content-type'], authorization: request.headers.authorization, body, status };
      received.push(set);
      if (status === 400) response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_key', description: 'test refuses it' }));
      else response.writeHead(status).end();
      events.emit('set', set);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    received,
    events,
    async waitFor(count) {
      while (received.length < count) await once(events, 'set');
      return received.slice(0, count);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
