import Type, { type Static } from 'typebox';
import { secretParam } from '../secret-params.js';

export const PostgresParams = Type.Object({
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
  database: Type.String({ minLength: 1 }),
  user: Type.String({ minLength: 1, description: 'An account allowed to read pg_authid-level catalogs and manage roles' }),
  password: Type.Optional(secretParam('Password of `user`')),
  ssl: Type.Optional(Type.Boolean()),
  connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
}, { additionalProperties: false });

export type PostgresParams = Static<typeof PostgresParams>;
