import type { Command } from 'commander';
import { planBrokerConfig } from '../../broker/config-file.js';
import { readInventorySources } from '../../inventory/source.js';
import { printJson } from '../output.js';
import { cliActor, withContext } from '../session.js';

export function brokerCommand(program: Command): void {
  const broker = program.command('broker').description('the just-in-time credential broker');

  broker.command('apply')
    .description('trust the issuers and register the CAEP receivers of BrokerConfig files (YAML/JSON), all validated first')
    .argument('<paths...>', 'files or directories')
    .action(async (paths: string[]) => {
      const plan = planBrokerConfig(await readInventorySources(paths));
      const applied = await withContext(async (context) => {
        for (const issuer of plan.issuers) await context.broker.issuers.save(issuer, cliActor());
        for (const receiver of plan.receivers) await context.broker.receivers.save(receiver, cliActor());
        return { issuers: plan.issuers.map((i) => i.id), receivers: plan.receivers.map((r) => r.id) };
      });
      printJson(applied);
    });

  const issuers = broker.command('issuers').description('trusted workload issuers');
  issuers.command('list').description('list trusted issuers and their binding rules')
    .action(async () => printJson(await withContext((context) => context.broker.issuers.list())));
  issuers.command('delete').description('stop trusting an issuer').argument('<id>')
    .action(async (id: string) => {
      await withContext((context) => context.broker.issuers.remove(id, cliActor()));
      printJson({ deleted: id });
    });

  const receivers = broker.command('receivers').description('CAEP receivers');
  receivers.command('list').description('list receivers (never their authorization values)')
    .action(async () => printJson(await withContext((context) => context.broker.receivers.list())));

  const keys = broker.command('keys').description('signing keys');
  keys.command('list').description('list signing keys (public facts only)')
    .action(async () => printJson(await withContext((context) => context.broker.keys.list())));
  keys.command('rotate').description('rotate the signing key now')
    .action(async () => printJson(await withContext((context) => context.broker.keys.rotate(cliActor()))));
}
