import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import Fastify from 'fastify';
import { registerAuth } from '../../src/api/auth.js';
import { registerProblemHandlers } from '../../src/api/problem.js';
import { streamRoutes } from '../../src/api/routes/stream.js';
import type { Api } from '../../src/api/server.js';
import { appendAudit } from '../../src/audit/service.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';

/** A client of GET /v1/stream reading events one by one, as the console does (fetch, no EventSource). */
interface StreamClient {
  response: Response;
  comments: string[];
  next(): Promise<EventSourceMessage>;
  /** Resolves with the next comment line the server sends. */
  comment(): Promise<string>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

async function openStream(url: string, token: string, lastEventId?: string): Promise<StreamClient> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const response = await fetch(`${url}/v1/stream`, { headers, signal: controller.signal });
  const comments: string[] = [];
  const waiting: ((comment: string) => void)[] = [];
  const comment = () => new Promise<string>((resolve) => waiting.push(resolve));
  if (!response.ok || !response.body) {
    return { response, comments, comment, next: () => Promise.reject(new Error('no stream')), ended: Promise.resolve(), close: () => controller.abort() };
  }
  const onComment = (text: string) => {
    comments.push(text);
    for (const resolve of waiting.splice(0)) resolve(text);
  };
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ onComment }))
    .getReader();
  let markEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => { markEnded = resolve; });
  return {
    response, comments, comment, ended,
    async next() {
      const { done, value } = await reader.read();
      if (done) {
        markEnded();
        throw new Error('the stream ended');
      }
      return value;
    },
    close: () => controller.abort(),
  };
}

/** Reads until the stream ends; returns the events that came before the end. */
async function drain(client: StreamClient): Promise<EventSourceMessage[]> {
  const seen: EventSourceMessage[] = [];
  for (;;) {
    try {
      seen.push(await client.next());
    } catch {
      return seen;
    }
  }
}

describe('live updates: GET /v1/stream', () => {
  let t: TestApp;
  let url: string;
  before(async () => {
    t = await startTestApp(await openTestStore('pglite'));
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => t?.close());

  /** A state change that appends to the audit chain. */
  const change = (name: string) => t.context.tokens.createToken({ name, subject: `${name}-user`, role: 'viewer' }, SYSTEM_ACTOR);
  const head = async () => Number((await t.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: t.auth('viewer') })).json().headSeq);

  test('is server-sent events that start with `ready` at the chain head, then each new audit record with its sequence number as id', async () => {
    const client = await openStream(url, t.tokens.viewer);
    try {
      assert.equal(client.response.status, 200);
      assert.match(client.response.headers.get('content-type')!, /^text\/event-stream/);
      assert.equal(client.response.headers.get('cache-control'), 'no-cache, no-transform');
      const ready = await client.next();
      assert.equal(ready.event, 'ready');
      const start = await head();
      assert.equal(ready.id, String(start));
      assert.deepEqual(JSON.parse(ready.data), { after: start });

      const { info } = await change('stream-a');
      const event = await client.next();
      assert.equal(event.event, 'audit');
      assert.equal(event.id, String(start + 1));
      const record = JSON.parse(event.data);
      assert.equal(record.seq, start + 1);
      assert.equal(record.action, 'token.created');
      assert.equal(record.subject, `token:${info.id}`);
      assert.equal(record.actor, 'system');
      assert.equal(record.payload.tokenSubject, 'stream-a-user');
      assert.match(record.hash, /^[0-9a-f]{64}$/);
      assert.ok(!Number.isNaN(Date.parse(record.at)));
    } finally {
      client.close();
    }
  });

  test('with Last-Event-ID, the records after it come first, in order, then the live ones', async () => {
    const from = await head();
    await change('stream-b');
    await change('stream-c');
    const client = await openStream(url, t.tokens.responder, String(from));
    try {
      const ready = await client.next();
      assert.equal(ready.event, 'ready');
      assert.equal(ready.id, String(from));
      const missed = [await client.next(), await client.next()];
      assert.deepEqual(missed.map((e) => e.id), [String(from + 1), String(from + 2)]);
      assert.deepEqual(missed.map((e) => JSON.parse(e.data).payload.tokenSubject), ['stream-b-user', 'stream-c-user']);
      await change('stream-d');
      const live = await client.next();
      assert.equal(live.id, String(from + 3));
    } finally {
      client.close();
    }
  });

  test('a client far behind catches up on every record, page after page, without a gap', async () => {
    // More records than the stream reads at once.
    await t.context.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 450; i++) await appendAudit(tx, SYSTEM_ACTOR, { action: 'test.appended', subject: `test:${i}`, payload: { i } });
    });
    const client = await openStream(url, t.tokens.approver, '0');
    const total = await head();
    try {
      assert.equal((await client.next()).event, 'ready');
      const ids: number[] = [];
      while (ids.length < total) ids.push(Number((await client.next()).id));
      assert.deepEqual(ids, Array.from({ length: total }, (_, i) => i + 1));
    } finally {
      client.close();
    }
  });

  test('a malformed Last-Event-ID is refused with a 400 problem naming the header', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/stream', headers: { ...t.auth('viewer'), 'last-event-id': 'abc' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'ERR_VALIDATION');
    assert.equal(res.json().errors[0].in, 'headers');
  });

  test('needs a reader token: none is 401, a workload is 403', async () => {
    assert.equal((await openStream(url, 'cdn_nope')).response.status, 401);
    const workload = await openStream(url, t.tokens.workload);
    assert.equal(workload.response.status, 403);
    assert.equal(((await workload.response.json()) as { code: string }).code, 'ERR_ROLE_FORBIDDEN');
  });

  test('closing the server ends the streams that are open instead of waiting for them', { timeout: 20_000 }, async () => {
    const own = await startTestApp(await openTestStore('pglite'));
    const ownUrl = await own.app.listen({ host: '127.0.0.1', port: 0 });
    const clients = [await openStream(ownUrl, own.tokens.viewer), await openStream(ownUrl, own.tokens.admin)];
    for (const client of clients) assert.equal((await client.next()).event, 'ready');
    await own.close();
    for (const client of clients) assert.deepEqual(await drain(client), []);
  });
});

describe('the stream when idle', () => {
  let t: TestApp;
  let app: Api;
  let url: string;
  before(async () => {
    t = await startTestApp(await openTestStore('pglite'));
    app = Fastify() as unknown as Api;
    app.decorate('cordon', { ...t.context, version: 'test' });
    registerProblemHandlers(app);
    registerAuth(app, t.context.tokens);
    await app.register(streamRoutes, { heartbeatMs: 20, pollMs: 10 });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await t?.close();
  });

  test('sends heartbeat comments while nothing happens, which are not events', { timeout: 10_000 }, async () => {
    const client = await openStream(url, t.tokens.viewer);
    try {
      assert.equal((await client.next()).event, 'ready');
      let sawEvent = false;
      client.next().then(() => { sawEvent = true; }, () => undefined);
      assert.equal((await client.comment()).trim(), 'heartbeat');
      assert.equal((await client.comment()).trim(), 'heartbeat');
      assert.equal(sawEvent, false);
    } finally {
      client.close();
    }
  });
});
