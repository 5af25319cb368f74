import type { TObject } from 'typebox';
import { NotFoundError } from '../domain/errors.js';
import type { ConnectorType } from './contract.js';
import { mariadbConnector } from './mariadb/index.js';
import { postgresConnector } from './postgres/index.js';
import { rabbitmqConnector } from './rabbitmq/index.js';
import { redisConnector } from './redis/index.js';
import { simulatedConnector } from './simulated/index.js';

/** Every connector type, by name. Adding a connector means adding its folder and a line here. */
export const CONNECTOR_TYPES = ['postgres', 'mariadb', 'redis', 'rabbitmq', 'simulated'] as const;
export type ConnectorTypeName = (typeof CONNECTOR_TYPES)[number];

const registry: { [T in ConnectorTypeName]: ConnectorType<any> } = {
  postgres: postgresConnector,
  mariadb: mariadbConnector,
  redis: redisConnector,
  rabbitmq: rabbitmqConnector,
  /** For `bin/cordon demo` where a local server is missing; labelled simulated everywhere. */
  simulated: simulatedConnector,
};

export function isConnectorType(type: string): type is ConnectorTypeName {
  return Object.hasOwn(registry, type);
}

export function connectorType(type: string): ConnectorType<TObject> {
  if (!isConnectorType(type)) throw new NotFoundError('ERR_CONNECTOR_TYPE_UNKNOWN', `unknown connector type "${type}" (known: ${CONNECTOR_TYPES.join(', ')})`);
  return registry[type];
}
