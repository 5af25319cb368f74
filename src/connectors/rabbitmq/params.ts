import Type, { type Static } from 'typebox';
import { secretParam } from '../secret-params.js';

export const RabbitmqParams = Type.Object({
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  amqpPort: Type.Integer({ minimum: 1, maximum: 65535, default: 5672, description: 'AMQP port, which login proofs connect to' }),
  managementPort: Type.Integer({ minimum: 1, maximum: 65535, default: 15672, description: 'Port of the management plugin\'s HTTP API, through which the connector acts' }),
  managementTls: Type.Optional(Type.Boolean({ description: 'Use HTTPS for the management API' })),
  vhost: Type.String({ minLength: 1, default: '/', description: 'Virtual host login proofs open, unless the user has permissions only elsewhere' }),
  user: Type.String({ minLength: 1, description: 'A management user with the administrator tag' }),
  password: Type.Optional(secretParam('Password of `user`')),
  connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
}, { additionalProperties: false });

export type RabbitmqParams = Static<typeof RabbitmqParams>;
