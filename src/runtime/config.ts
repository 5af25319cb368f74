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
  /** Playbooks (YAML), loaded as versions on start when they change; the shipped ones by default. */
  playbookDir: string;
  /** Where rotated secrets go when their credential names no delivery target (files, mode 0600). */
  deliveryDir: string;
  /** Reference (env:NAME, file:PATH) to the key signing notifications to teams with a webhook channel. */
  notifySigningSecret?: string;
  /** The action executor: lease, retry backoff and polling, in milliseconds. */
  executor: { leaseMs: number; backoffBaseMs: number; pollMs: number };
}

const SHIPPED_RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));
const SHIPPED_PLAYBOOKS = fileURLToPath(new URL('../../playbooks/', import.meta.url));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.CORDON_DATA_DIR || './.cordon');
  return {
    dataDir,
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
    playbookDir: resolve(env.CORDON_PLAYBOOK_DIR || SHIPPED_PLAYBOOKS),
    deliveryDir: resolve(env.CORDON_DELIVERY_DIR || `${dataDir}/delivery`),
    notifySigningSecret: env.CORDON_NOTIFY_SIGNING_SECRET || undefined,
    executor: {
      leaseMs: milliseconds('CORDON_ACTION_LEASE_MS', env.CORDON_ACTION_LEASE_MS, 5 * 60_000),
      backoffBaseMs: milliseconds('CORDON_ACTION_BACKOFF_MS', env.CORDON_ACTION_BACKOFF_MS, 1000),
      pollMs: milliseconds('CORDON_EXECUTOR_POLL_MS', env.CORDON_EXECUTOR_POLL_MS, 1000),
    },
  };
}

function milliseconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 86_400_000) {
    throw new InvalidInputError('ERR_CONFIG', `${name} must be a number of milliseconds from 1 to 86400000, got "${value}"`, [{ path: name, message: 'must be an integer from 1 to 86400000' }]);
  }
  return n;
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
