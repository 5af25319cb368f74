import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { ActionHandler, ActionTarget, ConnectorAction, ConnectorSession } from '../../src/connectors/contract.js';
import type { IdentityKind } from '../../src/domain/identity.js';

/** A unique, lower-case name for an account a test creates (and drops). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** A secret as Cordon would generate one; tests know it, results must never show it. */
export function newSecret(): string {
  return `S3cr3t-${randomBytes(12).toString('base64url')}`;
}

export function targetOf(externalRef: string, kind: IdentityKind = 'service_account', grant?: ActionTarget['grant']): ActionTarget {
  return { identity: { id: `id-${externalRef}`, name: externalRef, kind, externalRef }, ...(grant ? { grant } : {}) };
}

export function handler(session: ConnectorSession, action: ConnectorAction): ActionHandler {
  const found = session.actions?.[action];
  assert.ok(found, `the session has no ${action} handler`);
  return found;
}

/** Fails when any of the secrets appears anywhere in what a connector returned. */
export function assertNoSecret(returned: unknown[], secrets: string[]): void {
  const text = JSON.stringify(returned);
  for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret appears in a plan, result or verification');
}

/**
 * A TCP server that accepts connections and never says a word: a server that hangs, which only
 * the connector's own connect timeout can get it out of.
 */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A port on the loopback interface where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The connector's error for an unreachable server, naming it. */
export function isUnreachable(server: RegExp) {
  return (error: Error & { code?: string; name: string }) => {
    assert.equal(error.name, 'UnavailableError');
    assert.equal(error.code, 'ERR_CONNECTOR_UNREACHABLE');
    assert.match(error.message, server);
    return true;
  };
}
