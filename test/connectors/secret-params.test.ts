import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PostgresParams } from '../../src/connectors/postgres/params.js';
import { maskSecretParams, resolveSecretParams, sealSecretParams } from '../../src/connectors/secret-params.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { sealer } from '../../src/secrets/sealed.js';

describe('connector secret parameters', () => {
  const seal = sealer(new Uint8Array(32).fill(5));
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cordon-secret-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const base = { host: 'h', port: 5432, database: 'd', user: 'u' };

  test('a value is sealed on the way in and opened only when the connector is used', async () => {
    const stored = await sealSecretParams(PostgresParams, { ...base, password: 'pw-in-clear' }, seal);
    assert.match(String(stored.password), /^sealed:/);
    assert.ok(!JSON.stringify(stored).includes('pw-in-clear'));
    assert.equal((await resolveSecretParams(PostgresParams, stored, seal)).password, 'pw-in-clear');
    assert.equal(maskSecretParams(PostgresParams, stored).password, 'sealed');
  });

  test('env: and file: references are kept as references and resolved at use', async () => {
    const file = join(dir, 'pw');
    await writeFile(file, 'pw-from-file\n');
    process.env.CORDON_TEST_PG_PW = 'pw-from-env';
    const fromEnv = await sealSecretParams(PostgresParams, { ...base, password: 'env:CORDON_TEST_PG_PW' }, seal);
    assert.equal(fromEnv.password, 'env:CORDON_TEST_PG_PW');
    assert.equal((await resolveSecretParams(PostgresParams, fromEnv, seal)).password, 'pw-from-env');
    const fromFile = await resolveSecretParams(PostgresParams, { ...base, password: `file:${file}` }, seal);
    assert.equal(fromFile.password, 'pw-from-file');
  });

  test('a reference that cannot be resolved names the parameter', async () => {
    delete process.env.CORDON_TEST_MISSING;
    const error = await resolveSecretParams(PostgresParams, { ...base, password: 'env:CORDON_TEST_MISSING' }, seal).catch((e) => e);
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.code, 'ERR_CONNECTOR_SECRET');
    assert.deepEqual(error.issues, [{ path: '/params/password', message: 'environment variable CORDON_TEST_MISSING is not set' }]);
  });

  test('a value sealed under another deployment key cannot be opened', async () => {
    const stored = await sealSecretParams(PostgresParams, { ...base, password: 'x' }, seal);
    await assert.rejects(resolveSecretParams(PostgresParams, stored, sealer(new Uint8Array(32).fill(6))), { code: 'ERR_SECRET_UNSEALABLE' });
  });
});
