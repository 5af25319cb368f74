import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/db.js';
import { runCli } from '../helpers/cli.js';
import { dumpDatabase } from '../helpers/dump.js';

const CONFIG = `apiVersion: cordon/v1
kind: BrokerConfig
issuers:
  - id: github-actions
    issuer: https://token.actions.githubusercontent.com
    kind: github_actions
    jwksUri: https://token.actions.githubusercontent.com/.well-known/jwks
    audiences: [https://cordon.example]
    bindings:
      - claims: { repository_owner: acme, ref: refs/heads/main }
        identityFromClaim: sub
        scopes: [deployments:update]
        audiences: [k8s:prod-cluster]
receivers:
  - id: soc
    endpoint: https://siem.example/caep
    audience: https://siem.example
    authorization: env:SOC_RECEIVER_AUTH
`;

describe('bin/cordon broker', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-cli-broker-'));
    env = { CORDON_DATA_DIR: dir, SOC_RECEIVER_AUTH: 'Bearer soc-9kX2vQ7mW4' };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('apply trusts the issuers and registers the receivers of a BrokerConfig file', async () => {
    const file = join(dir, 'broker.yaml');
    await writeFile(file, CONFIG);
    const applied = await runCli(['broker', 'apply', file], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(JSON.parse(applied.stdout), { issuers: ['github-actions'], receivers: ['soc'] });
    const listed = await runCli(['broker', 'issuers', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(JSON.parse(listed.stdout)[0].bindings[0].identityFromClaim, 'sub');
    const store = await openStore({ pgliteDir: dir });
    try {
      assert.ok(!(await dumpDatabase(store.db)).includes('soc-9kX2vQ7mW4'), 'the receiver\'s authorization is sealed');
    } finally {
      await store.close();
    }
  });

  test('a broken file is refused before anything is applied, naming file, line, path and field', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, CONFIG.replace('kind: github_actions', 'kind: gitlab').replace('env:SOC_RECEIVER_AUTH', 'env:MISSING_VAR'));
    const result = await runCli(['broker', 'apply', file], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${file}:6:11 /issuers/0/kind: must be one of: github_actions`));
    assert.match(result.stderr, /\/receivers\/0\/authorization: environment variable MISSING_VAR is not set/);
  });
});
