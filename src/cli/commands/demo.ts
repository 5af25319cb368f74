import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runDemo } from '../../demo/run.js';

export function demoCommand(program: Command): void {
  program.command('demo')
    .description('replay a scripted attack (a leaked key, a replayed password, an agent off-hours) on a fresh embedded store and show what Cordon detected, contained, approved and verified')
    .option('--data-dir <dir>', 'where the demo keeps its store (wiped at each run)', '.cordon-demo')
    .option('--port <port>', 'port for the API during the demo (a free one if taken)', process.env.CORDON_PORT ?? '7700')
    .option('--serve', 'keep serving after the summary, until interrupted')
    .option('--simulate', 'use a simulated PostgreSQL (labelled) even where the local one could be used')
    .action(async (options: { dataDir: string; port: string; serve?: boolean; simulate?: boolean }) => {
      await runDemo({
        dataDir: resolve(options.dataDir), port: Number(options.port), serve: options.serve === true, simulate: options.simulate === true,
        out: (line) => process.stdout.write(`${line}\n`),
      });
    });
}
