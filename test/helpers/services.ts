import { connect } from 'node:net';

/**
 * Local servers the tests use. A test that needs one asks `skipUnless(name)`: run locally
 * without it, the test is skipped with the reason; under CI (`CORDON_REQUIRE_SERVICES=1`) a
 * missing server fails instead.
 */
export const SERVICES = {
  postgres: { host: '127.0.0.1', port: 5432 },
  mariadb: { host: '127.0.0.1', port: 3306 },
  redis: { host: '127.0.0.1', port: 6379 },
  rabbitmq: { host: '127.0.0.1', port: 5672 },
  /** The management plugin's HTTP API, through which the RabbitMQ connector acts. */
  'rabbitmq-management': { host: '127.0.0.1', port: 15672 },
  nats: { host: '127.0.0.1', port: 4222 },
} as const;
export type ServiceName = keyof typeof SERVICES;

const probes = new Map<ServiceName, Promise<boolean>>();

function reachable(name: ServiceName): Promise<boolean> {
  let probe = probes.get(name);
  if (!probe) {
    const { host, port } = SERVICES[name];
    probe = new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(2000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    probes.set(name, probe);
  }
  return probe;
}

/** `false` when the service is up; otherwise the skip reason (or a throw under CI). */
export async function skipUnless(name: ServiceName): Promise<string | false> {
  if (await reachable(name)) return false;
  const { host, port } = SERVICES[name];
  const reason = `${name} is not reachable on ${host}:${port}`;
  if (process.env.CORDON_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and CORDON_REQUIRE_SERVICES=1 requires it`);
  return reason;
}
