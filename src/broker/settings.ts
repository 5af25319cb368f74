import { InvalidInputError } from '../domain/errors.js';

/** How the broker behaves; read from the environment once, with defaults that follow SPEC §3.6. */
export interface BrokerSettings {
  /** `iss` of every token Cordon signs, and the base of its discovery document. */
  issuer: string;
  /** Lifetime of an exchanged token when nothing shorter applies (SPEC: 5 minutes). */
  tokenTtlSeconds: number;
  /** No token lives longer than this, whatever is asked. */
  maxTokenTtlSeconds: number;
  /** Default and maximum lifetime of a task. */
  taskTtlSeconds: number;
  maxTaskTtlSeconds: number;
  /** Hops a token may be derived from its first exchange (delegation and re-exchange). */
  maxChainDepth: number;
  /** A signing key signs for this long before a new one takes over. */
  keyRotationSeconds: number;
  /** A new key is in the JWKS this long before it signs, so relying parties can fetch it first. */
  keyPrepublishSeconds: number;
  /** How often a process reads revocations written by other processes (PostgreSQL only). */
  revocationSyncMs: number;
  /** Tolerance for clock skew when checking workload tokens' `exp`, `nbf` and `iat`. */
  clockToleranceSeconds: number;
}

export const DEFAULT_BROKER_SETTINGS: Omit<BrokerSettings, 'issuer'> = {
  tokenTtlSeconds: 300,
  maxTokenTtlSeconds: 3600,
  taskTtlSeconds: 300,
  maxTaskTtlSeconds: 3600,
  maxChainDepth: 4,
  keyRotationSeconds: 7 * 24 * 3600,
  keyPrepublishSeconds: 300,
  revocationSyncMs: 200,
  clockToleranceSeconds: 30,
};

export function loadBrokerSettings(env: NodeJS.ProcessEnv, defaults: { host: string; port: number }): BrokerSettings {
  const settings: BrokerSettings = {
    issuer: (env.CORDON_BROKER_ISSUER || `http://${defaults.host}:${defaults.port}`).replace(/\/+$/, ''),
    tokenTtlSeconds: integer(env, 'CORDON_BROKER_TOKEN_TTL', DEFAULT_BROKER_SETTINGS.tokenTtlSeconds),
    maxTokenTtlSeconds: integer(env, 'CORDON_BROKER_MAX_TOKEN_TTL', DEFAULT_BROKER_SETTINGS.maxTokenTtlSeconds),
    taskTtlSeconds: integer(env, 'CORDON_BROKER_TASK_TTL', DEFAULT_BROKER_SETTINGS.taskTtlSeconds),
    maxTaskTtlSeconds: integer(env, 'CORDON_BROKER_MAX_TASK_TTL', DEFAULT_BROKER_SETTINGS.maxTaskTtlSeconds),
    maxChainDepth: integer(env, 'CORDON_BROKER_MAX_CHAIN_DEPTH', DEFAULT_BROKER_SETTINGS.maxChainDepth),
    keyRotationSeconds: integer(env, 'CORDON_BROKER_KEY_ROTATION', DEFAULT_BROKER_SETTINGS.keyRotationSeconds),
    keyPrepublishSeconds: integer(env, 'CORDON_BROKER_KEY_PREPUBLISH', DEFAULT_BROKER_SETTINGS.keyPrepublishSeconds, 0),
    revocationSyncMs: integer(env, 'CORDON_BROKER_REVOCATION_SYNC_MS', DEFAULT_BROKER_SETTINGS.revocationSyncMs),
    clockToleranceSeconds: integer(env, 'CORDON_BROKER_CLOCK_TOLERANCE', DEFAULT_BROKER_SETTINGS.clockToleranceSeconds, 0),
  };
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(settings.issuer)) {
    throw new InvalidInputError('ERR_CONFIG', `CORDON_BROKER_ISSUER must be an http(s) URL without query or fragment, got "${settings.issuer}"`, [{ path: 'CORDON_BROKER_ISSUER', message: 'must be an http(s) URL' }]);
  }
  for (const [ttl, max] of [['tokenTtlSeconds', 'maxTokenTtlSeconds'], ['taskTtlSeconds', 'maxTaskTtlSeconds']] as const) {
    if (settings[ttl] > settings[max]) {
      throw new InvalidInputError('ERR_CONFIG', `the broker's default ${ttl} (${settings[ttl]}) exceeds its cap ${max} (${settings[max]})`, [{ path: ttl, message: 'exceeds its cap' }]);
    }
  }
  return settings;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, minimum = 1): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < minimum) {
    throw new InvalidInputError('ERR_CONFIG', `${name} must be an integer ≥ ${minimum}, got "${value}"`, [{ path: name, message: `must be an integer ≥ ${minimum}` }]);
  }
  return n;
}
