import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readPolicyDir } from '../../policy/files.js';
import { loadBundle } from '../../policy/load.js';
import { parseTestFile, runPolicyTests } from '../../policy/testing.js';
import { loadConfig } from '../../runtime/config.js';

/** Offline policy commands: they read files only, never the store. */
export function policiesCommand(program: Command): void {
  const policies = program.command('policies').description('Cedar policies: validate and test them before loading');

  policies.command('validate')
    .description('validate a policy directory (schema, *.cedar, entities.json); exit 1 naming each problem at file:line:col')
    .argument('[dir]', 'policy directory (default: CORDON_POLICY_DIR, or the shipped policies/)')
    .action(async (dir?: string) => {
      const bundle = loadBundle(await readPolicyDir(policyDir(dir)));
      for (const warning of bundle.warnings) process.stderr.write(`warning ${warning.source} ${warning.message}\n`);
      process.stdout.write(`policies ok: ${bundle.policies.length - 1} policies and the built-in guard, ${bundle.entities.length} entities, digest ${bundle.digest}\n`);
    });

  policies.command('test')
    .description('run policy test files (default: <dir>/tests/*.yaml); exit 1 if a case fails')
    .argument('[dir]', 'policy directory (default: CORDON_POLICY_DIR, or the shipped policies/)')
    .option('-t, --tests <files...>', 'test files to run instead of <dir>/tests/*.yaml')
    .action(async (dir: string | undefined, options: { tests?: string[] }) => {
      const root = policyDir(dir);
      const bundle = loadBundle(await readPolicyDir(root));
      const paths = options.tests ?? await testFiles(join(root, 'tests'));
      const files = await Promise.all(paths.map(async (path) => ({ name: path, file: parseTestFile(path, await readFile(path, 'utf8')) })));
      const results = runPolicyTests(bundle, files);
      for (const result of results) {
        process.stdout.write(result.passed
          ? `ok      ${result.name}\n`
          : `FAILED  ${result.name} (${result.file})\n        expected ${result.expected}\n        got      ${result.got}\n`);
      }
      const failed = results.filter((r) => !r.passed).length;
      process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
      if (failed) process.exitCode = 1;
    });
}

function policyDir(dir: string | undefined): string {
  return dir ? resolve(dir) : loadConfig().policyDir;
}

async function testFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  return names.filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort().map((n) => join(dir, n));
}
