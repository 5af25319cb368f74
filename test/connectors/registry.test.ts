import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONNECTOR_ACTIONS } from '../../src/connectors/contract.js';
import { CONNECTOR_TYPES, connectorType } from '../../src/connectors/registry.js';
import { secretKeys } from '../../src/connectors/secret-params.js';
import { validator } from '../../src/domain/validation.js';

const exampleParams: Record<string, Record<string, unknown>> = {
  postgres: { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' },
  mariadb: { host: '127.0.0.1', port: 3306, user: 'root' },
  redis: { host: '127.0.0.1', port: 6379 },
  rabbitmq: { host: '127.0.0.1', amqpPort: 5672, managementPort: 15672, vhost: '/', user: 'guest', password: 'guest' },
  simulated: { system: 'postgres', sessionsPerAccount: 1 },
};

describe('connector registry', () => {
  for (const name of CONNECTOR_TYPES) {
    test(`${name} declares exactly the actions its sessions handle`, async () => {
      const type = connectorType(name);
      assert.ok(validator(type.params).check(exampleParams[name]), `example params of ${name} are valid`);
      // connect() opens nothing until a handler is used.
      const session = type.connect(exampleParams[name]!);
      const handled = Object.keys(session.actions ?? {}).sort();
      assert.deepEqual(handled, type.capabilities.filter((c) => c !== 'discover').sort());
      assert.ok(handled.every((a) => (CONNECTOR_ACTIONS as readonly string[]).includes(a)));
      assert.equal(typeof session.discover === 'function', type.capabilities.includes('discover'));
      await session.close();
    });

    test(`${name} marks its password parameter secret`, () => {
      // The simulated system has no server, so no password to reach it.
      assert.deepEqual(secretKeys(connectorType(name).params), name === 'simulated' ? [] : ['password']);
    });
  }
});
