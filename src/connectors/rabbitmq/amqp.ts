import amqp from 'amqplib';
import { unreachable } from '../failures.js';
import type { LoginOutcome } from '../proof.js';
import type { RabbitmqParams } from './params.js';

// amqplib reports a refused login (ACCESS_REFUSED, 403) while the handshake is still going on,
// and a refused `connection.open` (vhost access, connection limit) only after the password was
// accepted.
const BAD_CREDENTIALS = /^Handshake terminated by server: 403/;
const OPEN_REFUSED = /^Expected ConnectionOpenOk; got <ConnectionClose/;

/** Connects with AMQP as the user, the way its application does; only proofs call it. */
export async function tryLogin(params: RabbitmqParams, user: string, secret: string, vhost: string): Promise<LoginOutcome> {
  let connection: amqp.ChannelModel;
  try {
    connection = await amqp.connect({ protocol: 'amqp', hostname: params.host, port: params.amqpPort, username: user, password: secret, vhost },
      { timeout: params.connectTimeoutMs ?? 5000, clientProperties: { connection_name: 'cordon-verify' } });
  } catch (error) {
    const message = (error as Error).message;
    if (BAD_CREDENTIALS.test(message)) return { outcome: 'bad_secret', reason: message };
    if (OPEN_REFUSED.test(message)) return { outcome: 'account_refused', reason: `the broker refused to open vhost ${vhost} after accepting the password` };
    throw unreachable(`RabbitMQ AMQP at ${params.host}:${params.amqpPort}`, error);
  }
  await connection.close().catch(() => undefined);
  return { outcome: 'accepted' };
}
