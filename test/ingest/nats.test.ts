import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { startNatsInput, type NatsInput, type NatsInputOptions } from '../../src/ingest/nats.js';
import type { IngestSummary } from '../../src/ingest/pipeline.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { TestApp } from '../helpers/app.js';
import { nativeEvent, startSeededApp } from '../helpers/events.js';
import { skipUnless } from '../helpers/services.js';
import { gitleaksReport } from './fixtures.js';

const SERVERS = '127.0.0.1:4222';

describe('the NATS JetStream input', { skip: await skipUnless('nats'), timeout: 60_000 }, () => {
  let t: TestApp;
  let nc: NatsConnection;
  const id = randomUUID().slice(0, 8);
  const options: NatsInputOptions = { servers: SERVERS, stream: `CORDON_TEST_${id}`, subject: `cordon.test.${id}`, durable: `cordon-test-${id}`, waitMs: 1000 };

  /** Resolves once batches summing `count` received records have been stored and acknowledged. */
  function received(input: NatsInput, count: number): Promise<IngestSummary[]> {
    return new Promise((resolve) => {
      const seen: IngestSummary[] = [];
      const onBatch = (s: IngestSummary) => {
        seen.push(s);
        if (seen.reduce((n, x) => n + x.received, 0) >= count) {
          input.events.off('batch', onBatch);
          resolve(seen);
        }
      };
      input.events.on('batch', onBatch);
    });
  }

  before(async () => {
    t = await startSeededApp('pglite');
    nc = await connect({ servers: SERVERS });
  });
  after(async () => {
    await (await nc.jetstreamManager()).streams.delete(options.stream).catch(() => undefined);
    await nc.drain();
    await t?.close();
  });

  test('published records are stored through the pipeline and acknowledged; a bad one becomes a dead letter', async () => {
    const input = await startNatsInput({ events: t.context.events, logger: createLogger('silent') }, options);
    const done = received(input, 3);
    const js = nc.jetstream();
    const good = nativeEvent({ identity: { id: 'svc-deployer' }, target: 'api:deploy' });
    await js.publish(options.subject, JSON.stringify(good, null, 2));
    await js.publish(options.subject, JSON.stringify(gitleaksReport('demo-Pg-etl-Wr1t3r')));
    await js.publish(options.subject, '{"type": "api.call", oops');
    const batches = await done;
    await input.stop();
    assert.equal(batches.reduce((n, b) => n + b.stored, 0), 2);
    assert.equal(batches.reduce((n, b) => n + b.rejected, 0), 1);
    assert.ok(await t.context.db.selectFrom('events').select('id').where('dedupeKey', '=', `native:${good.id}`).executeTakeFirst());
    assert.equal((await t.context.db.selectFrom('detections').select('identityId').where('identityId', '=', 'db-etl-writer').execute()).length, 1);
    assert.equal((await t.context.db.selectFrom('deadLetters').select('channel').execute()).filter((d) => d.channel === 'nats').length, 1);
    const info = await (await nc.jetstreamManager()).consumers.info(options.stream, options.durable);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  test('records published while no consumer runs are consumed when it starts again (durable)', async () => {
    const event = nativeEvent({ identity: { id: 'svc-deployer' }, target: 'api:deploy' });
    await nc.jetstream().publish(options.subject, JSON.stringify(event));
    const input = await startNatsInput({ events: t.context.events, logger: createLogger('silent') }, options);
    const [batch] = await once(input.events, 'batch') as [IngestSummary];
    await input.stop();
    assert.equal(batch.stored, 1);
    assert.equal(batch.received, 1, 'messages acknowledged before are not delivered again');
  });
});
