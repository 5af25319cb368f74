import type { Command } from 'commander';
import { printJson } from '../output.js';
import { cliActor, withContext } from '../session.js';

export function discoverCommand(program: Command): void {
  program.command('discover')
    .description('read a connector\'s system (roles, sessions, grants) into the identity graph')
    .argument('<connector>', 'connector id')
    .action(async (connector: string) => {
      printJson(await withContext((context) => context.discovery.discover(connector, cliActor())));
    });
}
