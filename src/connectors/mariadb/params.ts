import Type, { type Static } from 'typebox';
import { secretParam } from '../secret-params.js';

export const MariadbParams = Type.Object({
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 3306 }),
  user: Type.String({ minLength: 1, description: 'An account with CREATE USER, PROCESS, CONNECTION ADMIN and SELECT on mysql.global_priv' }),
  password: Type.Optional(secretParam('Password of `user`')),
  ssl: Type.Optional(Type.Boolean()),
  connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
}, { additionalProperties: false });

export type MariadbParams = Static<typeof MariadbParams>;
