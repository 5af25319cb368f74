import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exited, runCli, startCliServer } from '../helpers/cli.js';

describe('bin/cordon serve', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cordon-serve-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('first start serves /healthz, prints an admin token once and saves it 0600', async () => {
    const server = await startCliServer({ CORDON_DATA_DIR: dataDir });
    try {
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok', store: 'pglite', version: '0.1.0' });
      const file = join(dataDir, 'admin-token');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const token = (await readFile(file, 'utf8')).trim();
      assert.match(token, /^cdn_/);
      assert.ok(server.output().includes(token), 'printed once');
      const identities = await fetch(`${server.url}/v1/identities`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(identities.status, 200);
      assert.equal((await fetch(`${server.url}/v1/identities`)).status, 401);

      const second = await runCli(['serve'], { CORDON_DATA_DIR: dataDir, CORDON_PORT: '0' });
      assert.equal(second.code, 1);
      assert.match(second.stderr, /ERR_STORE_LOCKED/);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await exited(server.child), 0, 'graceful shutdown');
    }
  });

  test('a restart keeps the token and prints no new one', async () => {
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const server = await startCliServer({ CORDON_DATA_DIR: dataDir });
    try {
      assert.ok(!server.output().includes('Admin API token'));
      const res = await fetch(`${server.url}/v1/audit/verify`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(((await res.json()) as { ok: boolean }).ok, true);
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  });

  test('CORDON_ADMIN_TOKEN sets the admin token instead', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-serve-env-'));
    const server = await startCliServer({ CORDON_DATA_DIR: dir, CORDON_ADMIN_TOKEN: 'cdn_chosen-by-the-operator-0123456789' });
    try {
      assert.ok(!server.output().includes('Admin API token'));
      await assert.rejects(stat(join(dir, 'admin-token')));
      const res = await fetch(`${server.url}/v1/tokens`, { headers: { authorization: 'Bearer cdn_chosen-by-the-operator-0123456789' } });
      assert.equal(res.status, 200);
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
