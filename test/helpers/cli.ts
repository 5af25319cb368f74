import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CORDON_BIN = `${REPO_ROOT}bin/cordon`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/cordon` to completion from the repository root. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CORDON_BIN, args, { cwd: REPO_ROOT, env: { ...process.env, CORDON_REQUIRE_SERVICES: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `bin/cordon serve` and resolves once it says where it listens. */
export function startCliServer(env: Record<string, string>, args: string[] = []): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CORDON_BIN, ['serve', ...args], { cwd: REPO_ROOT, env: { ...process.env, CORDON_PORT: '0', ...env } });
    let output = '';
    const onData = (d: Buffer) => {
      output += d;
      const match = /running on (http:\/\/[^\s]+)/.exec(output);
      if (match) resolve({ child, url: match[1]!, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`serve exited with ${code} before listening:\n${output}`)));
  });
}

/** Resolves with the exit code (null when a signal ended it) once the process is gone, even if it already is. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}
