import { InvalidInputError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { ActionTarget } from './contract.js';

/**
 * The failures every connector reports the same way, so the executor can tell "retry later"
 * (`UnavailableError`) from "this target cannot be acted on" (not found, bad input).
 */

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message || error.constructor.name : String(error);
}

/*
 * Neither error keeps the driver's error as its cause: drivers attach what they sent (mysql2 the
 * statement, ioredis the command's arguments, AUTH's password among them), and a logged cause
 * would carry a secret with it. The message keeps the reason.
 */

/** The connector's server could not be reached or did not answer in time; names the server. */
export function unreachable(server: string, error: unknown): UnavailableError {
  return new UnavailableError('ERR_CONNECTOR_UNREACHABLE', `${server}: ${reasonOf(error)}`);
}

/** The server refused or failed a command of an action. */
export function commandFailed(server: string, what: string, error: unknown): UnavailableError {
  return new UnavailableError('ERR_CONNECTOR_FAILED', `${server}: ${what} failed: ${reasonOf(error)}`);
}

/** The account the target names does not exist on the system. */
export function targetNotFound(what: string, server: string): NotFoundError {
  return new NotFoundError('ERR_CONNECTOR_TARGET_NOT_FOUND', `${what} does not exist on ${server}`);
}

export function invalidTarget(path: string, message: string): InvalidInputError {
  return new InvalidInputError('ERR_ACTION_TARGET', `action target ${path} ${message}`, [{ path, message }]);
}

/** rotate_credential cannot run without the secret Cordon generated for it. */
export function requireNewSecret(context: { newSecret?: string }): string {
  if (!context.newSecret) {
    throw new InvalidInputError('ERR_ACTION_SECRET_REQUIRED', 'rotate_credential needs the new secret', [{ path: '/newSecret', message: 'is required' }]);
  }
  return context.newSecret;
}

export function requireGrant(target: ActionTarget): NonNullable<ActionTarget['grant']> {
  if (!target.grant || target.grant.permissions.length === 0) throw invalidTarget('/grant', 'must name the resource and at least one permission');
  return target.grant;
}
