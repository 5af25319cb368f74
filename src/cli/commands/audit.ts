import type { Command } from 'commander';
import { verifyAudit } from '../../audit/service.js';
import { withContext } from '../session.js';

export function auditCommand(program: Command): void {
  const audit = program.command('audit').description('the audit hash chain');
  audit.command('verify')
    .description('recompute the chain; exit 1 and name the first bad row if it does not hold')
    .action(async () => {
      const result = await withContext((context) => verifyAudit(context.db));
      if (result.ok) {
        process.stdout.write(`audit chain ok: ${result.checked} records, head ${result.headSeq ?? '-'} ${result.headHash}\n`);
        return;
      }
      process.stdout.write(`audit chain BROKEN at seq ${result.firstBad!.seq}: ${result.firstBad!.reason} (${result.checked} records before it hold)\n`);
      process.exitCode = 1;
    });
}
