import Type, { type Static } from 'typebox';
import { secretParam } from '../secret-params.js';

export const RedisParams = Type.Object({
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 6379 }),
  username: Type.Optional(Type.String({ minLength: 1, description: 'An ACL user allowed the ACL, CLIENT and CONFIG GET commands (default: the default user)' })),
  password: Type.Optional(secretParam('Password of `username`')),
  tls: Type.Optional(Type.Boolean()),
  connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
}, { additionalProperties: false });

export type RedisParams = Static<typeof RedisParams>;
