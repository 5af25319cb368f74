import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../domain/errors.js';

/** Everything Cordon reads from its environment, read in one place. */
export interface Config {
  dataDir: string;
  databaseUrl?: string;
  host: string;
  port: number;
  adminToken?: string;
  fingerprintKey?: string;
  masterKey?: string;
  logLevel: string;
  /** Directory of detection rules (YAML); the rules shipped in `rules/` by default. */
  rulesDir: string;
  /** Optional JetStream input: workers consume this stream's subject with a durable consumer. */
  nats?: { servers: string; stream: string; subject: string; durable: string };
  /** Cedar schema, policies and entities loaded as a policy version on start when they change. */
  policyDir: string;
  /** Share of allow decisions kept in the decision log (denies are always kept). */
  decisionLogSample: number;
}

const SHIPPED_RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    dataDir: resolve(env.CORDON_DATA_DIR || './.cordon'),
    databaseUrl: env.DATABASE_URL || undefined,
    host: env.CORDON_HOST || '127.0.0.1',
    port: port(env.CORDON_PORT),
    adminToken: env.CORDON_ADMIN_TOKEN || undefined,
    fingerprintKey: env.CORDON_FINGERPRINT_KEY || undefined,
    masterKey: env.CORDON_MASTER_KEY || undefined,
    logLevel: env.CORDON_LOG_LEVEL || 'info',
    rulesDir: resolve(env.CORDON_RULES_DIR || SHIPPED_RULES),
    nats: env.CORDON_NATS_URL ? {
      servers: env.CORDON_NATS_URL,
      stream: env.CORDON_NATS_STREAM || 'CORDON_EVENTS',
      subject: env.CORDON_NATS_SUBJECT || 'cordon.events',
      durable: env.CORDON_NATS_DURABLE || 'cordon-ingest',
    } : undefined,
    policyDir: resolve(env.CORDON_POLICY_DIR || DEFAULT_POLICY_DIR),
    decisionLogSample: fraction('CORDON_DECISION_LOG_SAMPLE', env.CORDON_DECISION_LOG_SAMPLE),
  };
}

function port(value: string | undefined): number {
  if (value === undefined || value === '') return 7700;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidInputError('ERR_CONFIG', `CORDON_PORT must be a port number, got "${value}"`, [{ path: 'CORDON_PORT', message: 'must be an integer from 0 to 65535' }]);
  }
  return n;
}

function fraction(name: string, value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) {
    throw new InvalidInputError('ERR_CONFIG', `${name} must be a number from 0 to 1, got "${value}"`, [{ path: name, message: 'must be a number from 0 to 1' }]);
  }
  return n;
}
