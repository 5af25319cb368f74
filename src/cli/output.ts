import { CordonError, InvalidInputError } from '../domain/errors.js';

/** How the CLI reports a failure: the message, each issue on its own line, and an exit code. */
export function reportError(error: unknown): number {
  if (error instanceof InvalidInputError) {
    process.stderr.write(`error ${error.code}: ${error.issues.length ? 'invalid input' : error.message}\n`);
    for (const issue of error.issues) {
      process.stderr.write(`  ${issue.source ? `${issue.source} ` : ''}${issue.path || '/'}: ${issue.message}\n`);
    }
    return 1;
  }
  if (error instanceof CordonError) {
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
