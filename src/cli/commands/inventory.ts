import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { exportInventory } from '../../inventory/export.js';
import { readInventorySources } from '../../inventory/source.js';
import { printJson } from '../output.js';
import { cliActor, withContext } from '../session.js';

export function inventoryCommand(program: Command): void {
  const inventory = program.command('inventory').description('import and export the declarative inventory');

  inventory.command('import')
    .description('import YAML/JSON files or directories, all or nothing')
    .argument('<paths...>', 'files or directories')
    .action(async (paths: string[]) => {
      const sources = await readInventorySources(paths);
      const summary = await withContext((context) => context.inventory.importSources(sources, cliActor()));
      printJson(summary);
    });

  inventory.command('export')
    .description('export the stored inventory (fingerprints, never values)')
    .option('--format <format>', 'yaml | json', 'yaml')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (options: { format: string; output?: string }) => {
      const doc = await withContext((context) => exportInventory(context.db));
      const text = options.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc);
      if (options.output) await writeFile(options.output, text);
      else process.stdout.write(text);
    });
}
