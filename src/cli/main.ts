import { Command } from 'commander';
import { VERSION } from '../runtime/version.js';
import { actionsCommand } from './commands/actions.js';
import { auditCommand } from './commands/audit.js';
import { brokerCommand } from './commands/broker.js';
import { demoCommand } from './commands/demo.js';
import { discoverCommand } from './commands/discover.js';
import { incidentsCommand } from './commands/incidents.js';
import { ingestCommand } from './commands/ingest.js';
import { inventoryCommand } from './commands/inventory.js';
import { playbooksCommand } from './commands/playbooks.js';
import { policiesCommand } from './commands/policies.js';
import { serveCommand } from './commands/serve.js';
import { tokensCommand } from './commands/tokens.js';
import { reportError } from './output.js';

const program = new Command('cordon')
  .description('Cordon: non-human identity detection to verified containment')
  .version(VERSION);

serveCommand(program);
inventoryCommand(program);
discoverCommand(program);
ingestCommand(program);
auditCommand(program);
tokensCommand(program);
brokerCommand(program);
policiesCommand(program);
playbooksCommand(program);
actionsCommand(program);
incidentsCommand(program);
demoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
