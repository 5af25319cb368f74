import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidInputError } from '../../src/domain/errors.js';
import { exportInventory } from '../../src/inventory/export.js';
import { inventoryImporter } from '../../src/inventory/import.js';
import { readInventorySources } from '../../src/inventory/source.js';
import { fingerprinter } from '../../src/secrets/fingerprint.js';
import { sealer } from '../../src/secrets/sealed.js';
import type { TestStore } from '../helpers/store.js';
import { openTestStore, STORE_KINDS, storeSkip } from '../helpers/store.js';
import { EXAMPLE_INVENTORY, exampleSecretValues } from '../helpers/examples.js';
import { dumpDatabase } from '../helpers/dump.js';

const actor = { id: 'test', subject: 'tester' };
const fingerprint = fingerprinter(new Uint8Array(32).fill(7));

async function rowCounts(store: TestStore): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['teams', 'connectors', 'resources', 'identities', 'credentials', 'grants', 'edges'] as const) {
    const row = await store.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

for (const kind of STORE_KINDS) {
  describe(`inventory import on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let store: TestStore;
    let dir: string;
    let importer: ReturnType<typeof inventoryImporter>;

    before(async () => {
      store = await openTestStore(kind);
      dir = await mkdtemp(join(tmpdir(), 'cordon-inv-'));
      importer = inventoryImporter({ db: store.db, fingerprint, sealer: sealer(new Uint8Array(32).fill(9)) });
    });
    after(async () => {
      await store?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('importing the example inventory twice leaves the same state', async () => {
      const first = await importer.importSources(await readInventorySources([EXAMPLE_INVENTORY]), actor);
      assert.ok(first.identities.created >= 50, `expected ≥ 50 identities, got ${first.identities.created}`);
      const stateAfterFirst = { counts: await rowCounts(store), exported: await exportInventory(store.db) };

      const second = await importer.importSources(await readInventorySources([EXAMPLE_INVENTORY]), actor);
      for (const [entity, counts] of Object.entries(second)) {
        assert.deepEqual({ created: counts.created, updated: counts.updated }, { created: 0, updated: 0 }, `${entity} changed on re-import`);
      }
      assert.deepEqual({ counts: await rowCounts(store), exported: await exportInventory(store.db) }, stateAfterFirst);
    });

    test('the example covers every identity kind, shared credentials and a delegation chain', async () => {
      const kinds = await store.db.selectFrom('identities').select('kind').distinct().execute();
      assert.equal(kinds.length, 9);
      const shared = await store.db.selectFrom('credentials').select('fingerprint')
        .groupBy('fingerprint').having((eb) => eb.fn.count('identityId').distinct(), '>', 1).execute();
      assert.ok(shared.length >= 2, 'at least two fingerprints are shared by several identities');
      const delegations = await store.db.selectFrom('edges').select(['fromId', 'toId']).where('kind', '=', 'delegates_to').execute();
      assert.ok(delegations.some((a) => delegations.some((b) => b.fromId === a.toId)), 'a delegation chain of at least two hops');
    });

    test('no plaintext credential value is stored anywhere in the database', async () => {
      const dump = await dumpDatabase(store.db);
      const values = exampleSecretValues();
      assert.ok(values.length >= 20);
      for (const value of values) assert.ok(!dump.includes(value), `plaintext value found in the database: ${value.slice(0, 6)}…`);
      const row = await store.db.selectFrom('credentials').select('fingerprint').where('id', '=', 'svc-payments-api/db-password').executeTakeFirstOrThrow();
      assert.equal(row.fingerprint, fingerprint('demo-Pg-payments-api-7Q2vX9kLm4'));
    });

    test('a broken file is refused naming file, line, path and field, and nothing is half-imported', async () => {
      const good = join(dir, 'a-good.yaml');
      const bad = join(dir, 'b-bad.yaml');
      await writeFile(good, 'apiVersion: cordon/v1\nkind: Inventory\nteams:\n  - id: newteam\n    name: New\n    responsibility: app\n');
      await writeFile(bad, [
        'apiVersion: cordon/v1',
        'kind: Inventory',
        'identities:',
        '  - id: fresh-identity',
        '    kind: robot',
        '    name: x',
        '    provider: generic',
        '    environment: prod',
      ].join('\n'));
      const before = await rowCounts(store);
      const error = await importer.importSources(await readInventorySources([good, bad]), actor).catch((e) => e);
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.code, 'ERR_INVENTORY_INVALID');
      const issue = error.issues.find((i) => i.path === '/identities/0/kind');
      assert.ok(issue, JSON.stringify(error.issues));
      assert.equal(issue.source, `${bad}:5:11`);
      assert.match(issue.message, /must be one of: service_account/);
      assert.deepEqual(await rowCounts(store), before);
    });

    test('a reference to an undeclared team is refused with its path, and nothing is written', async () => {
      const file = join(dir, 'dangling.yaml');
      await writeFile(file, [
        'apiVersion: cordon/v1',
        'kind: Inventory',
        'teams:',
        '  - { id: only-here, name: Only, responsibility: app }',
        'identities:',
        '  - id: dangling-owner',
        '    kind: bot',
        '    name: x',
        '    provider: generic',
        '    environment: prod',
        '    owners: { team: nobody }',
      ].join('\n'));
      const before = await rowCounts(store);
      const error = await importer.importSources(await readInventorySources([file]), actor).catch((e) => e);
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.deepEqual(error.issues.map((i: { path: string }) => i.path), ['/identities/0/owners/team']);
      assert.match(String(error.issues[0]?.source), /dangling\.yaml:11:\d+$/);
      assert.deepEqual(await rowCounts(store), before);
    });

    test('a YAML syntax error names the file and line', async () => {
      const file = join(dir, 'syntax.yaml');
      await writeFile(file, 'apiVersion: cordon/v1\nkind: Inventory\nteams: [\n');
      const error = await readInventorySources([file]).catch((e) => e);
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.code, 'ERR_INVENTORY_SYNTAX');
      assert.match(String(error.issues[0]?.source), /syntax\.yaml:\d+:\d+$/);
    });

    test('an identity declaring fewer grants loses the others; absent fields stay as stored', async () => {
      const file = join(dir, 'narrow.yaml');
      await writeFile(file, [
        'apiVersion: cordon/v1',
        'kind: Inventory',
        'identities:',
        '  - id: svc-payments-reconciler',
        '    kind: service_account',
        '    name: payments-reconciler',
        '    provider: postgres',
        '    connector: pg-local',
        '    externalRef: cordon_demo_payments_reconciler',
        '    environment: production',
        '    grants:',
        '      - { resource: "pg:payments", permissions: [SELECT] }',
      ].join('\n'));
      const summary = await importer.importSources(await readInventorySources([file]), actor);
      assert.equal(summary.grants.updated, 2, 'one grant narrowed, one removed');
      const grants = await store.db.selectFrom('grants').select(['resourceId', 'permissions']).where('identityId', '=', 'svc-payments-reconciler').execute();
      assert.deepEqual(grants, [{ resourceId: 'pg:payments', permissions: ['SELECT'] }]);
      const identity = await store.db.selectFrom('identities').select(['criticality', 'tags']).where('id', '=', 'svc-payments-reconciler').executeTakeFirstOrThrow();
      assert.deepEqual(identity, { criticality: 'high', tags: ['shared'] });
    });

    test('a connector secret given as a value is sealed, never stored in clear', async () => {
      const file = join(dir, 'connector.yaml');
      await writeFile(file, [
        'apiVersion: cordon/v1',
        'kind: Inventory',
        'connectors:',
        '  - id: pg-sealed',
        '    type: postgres',
        '    params: { host: 127.0.0.1, port: 5432, database: test, user: postgres, password: "s3cret-connector-pass" }',
        '  - id: pg-ref',
        '    type: postgres',
        '    params: { host: 127.0.0.1, port: 5432, database: test, user: postgres, password: "env:SOME_PG_PASSWORD" }',
      ].join('\n'));
      await importer.importSources(await readInventorySources([file]), actor);
      const rows = await store.db.selectFrom('connectors').select(['id', 'params']).where('id', 'in', ['pg-sealed', 'pg-ref']).orderBy('id').execute();
      assert.equal(rows[0]!.params.password, 'env:SOME_PG_PASSWORD');
      assert.match(String(rows[1]!.params.password), /^sealed:ey/);
      assert.ok(!(await dumpDatabase(store.db)).includes('s3cret-connector-pass'));
    });

    test('connector parameters are validated against the connector type', async () => {
      const file = join(dir, 'bad-connector.yaml');
      await writeFile(file, 'apiVersion: cordon/v1\nkind: Inventory\nconnectors:\n  - id: c1\n    type: postgres\n    params: { host: h, port: 99999, database: d, user: u }\n  - id: c2\n    type: oracle\n    params: {}\n');
      const error = await importer.importSources(await readInventorySources([file]), actor).catch((e) => e);
      assert.ok(error instanceof InvalidInputError);
      assert.deepEqual(error.issues.map((i: { path: string }) => i.path).sort(), ['/connectors/0/params/port', '/connectors/1/type']);
    });
  });
}
