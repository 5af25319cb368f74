import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { loadConfig } from '../../src/runtime/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type Server } from '../../src/runtime/serve.js';
import { skipUnless } from '../helpers/services.js';
import { openTestStore } from '../helpers/store.js';

describe('discovery queued over the API and run by the worker', { skip: await skipUnless('postgres') }, () => {
  let server: Server;
  let dataDir: string;
  let token: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cordon-disc-'));
    server = await startServer({ ...loadConfig({}), dataDir, port: 0 }, createLogger('silent'), { role: 'all', store: await openTestStore('postgres') });
    token = (await server.context.tokens.createToken({ name: 'r', subject: 'responder', role: 'responder' }, SYSTEM_ACTOR)).token;
    await server.context.inventory.importSources([{
      file: 'inline', locate: () => 'inline',
      document: { apiVersion: 'cordon/v1', kind: 'Inventory', connectors: [{ id: 'pg', type: 'postgres', params: { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' } }] },
    }], SYSTEM_ACTOR);
  });
  after(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('POST discover answers 202 with a job the worker completes', async () => {
    const done = once(server.worker!.events, 'finished');
    const res = await fetch(`${server.url}/v1/connectors/pg/discover`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 202);
    const job = (await res.json()) as { id: string };
    assert.equal(res.headers.get('location'), `/v1/jobs/${job.id}`);
    const [finished] = await done;
    assert.equal(finished.id, job.id);
    assert.equal(finished.status, 'succeeded');
    const polled = (await (await fetch(`${server.url}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string; result: { connector: string } };
    assert.equal(polled.status, 'succeeded');
    assert.equal(polled.result.connector, 'pg');
    const audit = await server.context.db.selectFrom('auditLog').select('actorSubject').where('action', '=', 'connector.discovered').execute();
    assert.deepEqual(audit, [{ actorSubject: 'responder' }]);
  });

  test('discovering an unknown connector is a 404 problem', async () => {
    const res = await fetch(`${server.url}/v1/connectors/none/discover`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'ERR_CONNECTOR_NOT_FOUND');
  });
});
