import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { isTerminal, type ActionRunState } from '../../src/domain/action-run.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CORDON_BIN, REPO_ROOT, exited } from '../helpers/cli.js';
import { newSecret, uniqueName } from '../helpers/connectors.js';
import { loginPostgres, postgresSession } from '../helpers/logins.js';
import { PASSWORD_AUTH_GROUP, passwordAuthSkip } from '../helpers/password-auth.js';
import { leakedInGitleaks, waitFor } from '../helpers/respond.js';
import { skipUnless } from '../helpers/services.js';
import { adminQuery, openTestStore, type TestStore } from '../helpers/store.js';

/**
 * The executor killed in the middle of a playbook, twice: once while the rotated secret is being
 * delivered (before it is applied), once while a notification is in flight (after rotation and
 * session revocation were applied and verified). Restarted workers finish the playbook, and the
 * real PostgreSQL shows each change made once.
 */
const skip = (await skipUnless('postgres')) || (await passwordAuthSkip());

const PLAYBOOK = (hook: string) => `
apiVersion: cordon/v1
kind: Playbook
id: crash-drill
title: Crash drill
priority: 999
match:
  types: [secret_exposure]
  minConfidence: confirmed
tiers:
  - name: contain
    steps:
      - id: rotate
        action: rotate_credential
        target: credential
        timeout: 1s
      - id: revoke-sessions
        action: revoke_sessions
        target: sessions
        timeout: 2s
      - id: notify
        action: webhook
        target: none
        timeout: 1s
        params:
          url: ${hook}/notify
          signingSecret: env:CRASH_HOOK_SECRET
      - id: disable
        action: disable_identity
        target: identity
        timeout: 2s
`;

interface Hit {
  path: string;
  id: string;
  body: { data: Record<string, unknown> };
}

/** A receiver that holds the first request of each path unanswered (the worker is killed meanwhile) and accepts the rest. */
class HoldingReceiver {
  readonly hits: Hit[] = [];
  private readonly held: ServerResponse[] = [];
  private readonly server: Server;
  private readonly verifier: Webhook;
  url = '';

  constructor(signingSecret: string) {
    this.verifier = new Webhook(new TextEncoder().encode(signingSecret), { format: 'raw' });
    this.server = createServer((request, response) => void this.receive(request, response));
  }

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of request) text += chunk;
    // Only a correctly signed delivery counts.
    const body = this.verifier.verify(text, request.headers as Record<string, string>) as Hit['body'];
    const hit = { path: request.url!, id: String(request.headers['webhook-id']), body };
    const first = !this.hits.some((h) => h.path === hit.path);
    this.hits.push(hit);
    if (first) this.held.push(response);
    else response.writeHead(204).end();
  }

  hitsOf(path: string): Hit[] {
    return this.hits.filter((h) => h.path === path);
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('a playbook whose executor is killed resumes without applying anything twice', { skip }, () => {
  const database = uniqueName('cordon_t_crash');
  const role = uniqueName('cordon_t_crash');
  const password = newSecret();
  const hookSecret = randomBytes(24).toString('base64url');
  const keys = { CORDON_FINGERPRINT_KEY: randomBytes(32).toString('hex'), CORDON_MASTER_KEY: randomBytes(32).toString('hex') };
  let store: TestStore;
  let t: TestApp;
  let dir: string;
  let receiver: HoldingReceiver;
  let env: Record<string, string>;
  const workers: ChildProcess[] = [];

  function startWorker(): ChildProcess {
    const child = spawn(CORDON_BIN, ['serve', '--role', 'worker'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', () => undefined);
    workers.push(child);
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    child.kill('SIGKILL');
    await exited(child);
  }

  const runs = () => t.context.db.selectFrom('actionRuns').selectAll().where('targetLabel', 'not like', 'nothing%').orderBy('seq').execute();
  const stateOf = async (stepId: string): Promise<ActionRunState | undefined> => (await runs()).find((r) => r.stepId === stepId)?.state as ActionRunState | undefined;
  const verifier = async () => (await adminQuery('select rolpassword from pg_authid where rolname = $1', [role])).rows[0].rolpassword as string;
  const sessions = async () => Number((await adminQuery('select count(*)::int as n from pg_stat_activity where usename = $1', [role])).rows[0].n);

  before(async () => {
    await adminQuery(`create database ${database}`);
    await adminQuery(`create role ${role} login password '${password}' in role ${PASSWORD_AUTH_GROUP}`);
    dir = await mkdtemp(join(tmpdir(), 'cordon-crash-'));
    receiver = new HoldingReceiver(hookSecret);
    await receiver.start();
    await writeFile(join(dir, 'crash-drill.yaml'), PLAYBOOK(receiver.url));
    store = await openTestStore('postgres');
    env = {
      ...keys, DATABASE_URL: store.url!, CORDON_DATA_DIR: join(dir, 'data'), CORDON_PLAYBOOK_DIR: dir, CRASH_HOOK_SECRET: hookSecret,
      CORDON_ACTION_LEASE_MS: '500', CORDON_EXECUTOR_POLL_MS: '100', CORDON_ACTION_BACKOFF_MS: '100', CORDON_LOG_LEVEL: 'warn',
    };
    t = await startTestApp(store, env);
    const inventory = {
      apiVersion: 'cordon/v1', kind: 'Inventory',
      connectors: [{ id: 'pg-crash', type: 'postgres', params: { host: '127.0.0.1', port: 5432, database, user: 'postgres' } }],
      identities: [{
        id: 'svc-crash', kind: 'db_role', name: 'crash drill', provider: 'postgres', connector: 'pg-crash', externalRef: role, environment: 'production',
        credentials: [{ name: 'password', type: 'password', value: password, delivery: { kind: 'webhook', url: `${receiver.url}/deliver`, signingSecret: 'env:CRASH_HOOK_SECRET' } }],
      }],
    };
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/inventory', headers: t.auth('admin'), payload: inventory })).statusCode, 200);
  });

  after(async () => {
    for (const child of workers) if (child.exitCode === null && child.signalCode === null) await kill(child);
    await t?.close();
    await receiver?.close();
    await adminQuery(`drop database if exists ${database} with (force)`);
    await adminQuery(`drop role if exists ${role}`);
    await rm(dir, { recursive: true, force: true });
  });

  test('killed while delivering the new secret and again while notifying, the playbook completes and each change is made once', async () => {
    // The application's session: the playbook ends it on the server.
    const app = await postgresSession(database, role, password);
    const original = await verifier();

    const first = startWorker();
    const sent = await t.app.inject({ method: 'POST', url: '/v1/events?format=gitleaks', headers: t.auth('responder'), payload: leakedInGitleaks(password) });
    assert.equal(sent.statusCode, 200, sent.body);
    await waitFor('the new secret to reach its delivery webhook', async () => receiver.hitsOf('/deliver').length === 1, []);
    await kill(first);
    assert.equal(await stateOf('rotate'), 'running', 'killed while rotating');
    assert.equal(await verifier(), original, 'the secret is delivered before it is set: nothing applied yet');
    assert.equal(await loginPostgres(database, role, password), 'ok');

    const second = startWorker();
    await waitFor('the notification to be sent', async () => receiver.hitsOf('/notify').length === 1, []);
    await kill(second);
    assert.equal(await stateOf('rotate'), 'verified');
    assert.equal(await stateOf('revoke-sessions'), 'verified');
    assert.equal(await stateOf('notify'), 'running', 'killed while notifying');
    const rotated = await verifier();
    assert.notEqual(rotated, original);
    assert.equal(await sessions(), 0);

    startWorker();
    const done = await waitFor('every run to end', async () => {
      const all = await runs();
      return all.length > 0 && all.every((r) => isTerminal(r.state as ActionRunState)) ? all : undefined;
    }, []);
    assert.deepEqual(done.map((r) => [r.stepId, r.state]), [['rotate', 'verified'], ['revoke-sessions', 'verified'], ['notify', 'verified'], ['disable', 'verified']]);

    // On the server: the password was set once (its SCRAM verifier, salted afresh by each ALTER ROLE, is the one set before the second kill) ...
    assert.equal(await verifier(), rotated);
    // ... to the one secret delivered: both deliveries of the resumed rotation carry the same value, under one webhook id.
    const deliveries = receiver.hitsOf('/deliver');
    assert.equal(deliveries.length, 2);
    assert.equal(new Set(deliveries.map((d) => d.id)).size, 1);
    const secret = String(deliveries[0]!.body.data.secret);
    assert.equal(deliveries[1]!.body.data.secret, secret);
    assert.equal(await loginPostgres(database, role, password), '28P01', 'the old password is refused');
    assert.equal(await loginPostgres(database, role, secret), '28000', 'the delivered password is the one set, and the role may no longer log in');
    // The notification resumed under the same webhook id: a receiver deduplicating on it sees one event.
    assert.equal(new Set(receiver.hitsOf('/notify').map((h) => h.id)).size, 1);
    // Each run was applied (executed) exactly once in the audit chain, and resumed where a worker died.
    const executed = await t.context.db.selectFrom('auditLog').select('payload').where('action', '=', 'action.executed').execute();
    for (const run of done) assert.equal(executed.filter((a) => (a.payload as { runId?: string }).runId === run.id).length, 1, `${run.stepId} executed once`);
    const byStep = Object.fromEntries(done.map((r) => [r.stepId, r]));
    assert.equal(byStep.rotate!.attempts, 2);
    assert.equal(byStep['revoke-sessions']!.attempts, 1);
    assert.equal(byStep.notify!.attempts, 2);
    assert.equal(byStep.disable!.attempts, 1);
    await app.close();
  });
});
