import type { Command } from 'commander';
import { API_ROLES, type ApiRole } from '../../domain/roles.js';
import { printJson } from '../output.js';
import { cliActor, withContext } from '../session.js';

export function tokensCommand(program: Command): void {
  const tokens = program.command('tokens').description('API tokens');
  tokens.command('create')
    .description('create an API token and print it (shown once)')
    .requiredOption('--role <role>', API_ROLES.join(' | '))
    .requiredOption('--subject <subject>', 'the person or service that will use it')
    .option('--name <name>', 'a label', '')
    .action(async (options: { role: string; subject: string; name: string }) => {
      if (!(API_ROLES as readonly string[]).includes(options.role)) throw new Error(`--role must be one of ${API_ROLES.join(', ')}`);
      const created = await withContext((context) => context.tokens.createToken(
        { name: options.name || `${options.role} for ${options.subject}`, subject: options.subject, role: options.role as ApiRole }, cliActor()));
      printJson(created);
    });
  tokens.command('list').description('list tokens (never their values)')
    .action(async () => printJson(await withContext((context) => context.tokens.listTokens())));
  tokens.command('revoke').description('revoke a token').argument('<id>')
    .action(async (id: string) => printJson(await withContext((context) => context.tokens.revokeToken(id, cliActor()))));
}
