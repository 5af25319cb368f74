import type { Command } from 'commander';
import { apiTarget, callApi, withConnection, type Connection } from '../api-client.js';
import { printJson } from '../output.js';


interface ActionView {
  id: string;
  state: string;
  action: string;
  targetLabel: string;
  planDigest: string | null;
  plan: { changes: { op: string; object: string; detail: string }[] } | null;
  approval: { reasons: string[]; quorum: number; approvals: { subject: string }[] } | null;
}


/** Action runs, and decisions on the ones awaiting approval, made through the API as the token's owner. */
export function actionsCommand(program: Command): void {
  const actions = program.command('actions').description('containment action runs: list them, approve or deny a step');

  withConnection(actions.command('list'))
    .description('action runs, most recently changed first')
    .option('--state <state>', 'only runs in this state (awaiting_approval, failed, …)')
    .option('--incident <id>', 'only runs of this incident')
    .action(async (options: Connection & { state?: string; incident?: string }) => {
      const query = new URLSearchParams({ ...(options.state ? { state: options.state } : {}), ...(options.incident ? { incident: options.incident } : {}) });
      const { items } = await callApi<{ items: ActionView[] }>(await apiTarget(options), 'GET', `/v1/actions?${query}`);
      for (const run of items) process.stdout.write(`${run.id}  ${run.state.padEnd(19)} ${run.action} on ${run.targetLabel}\n`);
      if (items.length === 0) process.stdout.write('no action runs\n');
    });

  withConnection(actions.command('show'))
    .description('one action run: its diff, approvals and proof')
    .argument('<id>')
    .action(async (id: string, options: Connection) => printJson(await callApi(await apiTarget(options), 'GET', `/v1/actions/${encodeURIComponent(id)}`)));

  withConnection(actions.command('approve'))
    .description('approve exactly the planned diff of a step awaiting approval (shown before it is sent)')
    .argument('<id>')
    .option('--digest <sha256>', 'the plan digest you reviewed (default: the one the server shows now, printed here)')
    .option('--reason <text>', 'why (required for --break-glass)')
    .option('--break-glass', 'admin only: approve alone, past quorum and separation of duties')
    .action(async (id: string, options: Connection & { digest?: string; reason?: string; breakGlass?: boolean }) => {
      const target = await apiTarget(options);
      const run = await callApi<ActionView>(target, 'GET', `/v1/actions/${encodeURIComponent(id)}`);
      process.stdout.write(`${run.action} on ${run.targetLabel} (${run.state})\n`);
      for (const change of run.plan?.changes ?? []) process.stdout.write(`  ${change.op} ${change.object}: ${change.detail}\n`);
      for (const reason of run.approval?.reasons ?? []) process.stdout.write(`  needs approval: ${reason}\n`);
      const result = await callApi<{ decided: boolean; action: ActionView }>(target, 'POST', `/v1/actions/${encodeURIComponent(id)}/approve`, {
        planDigest: options.digest ?? run.planDigest, ...(options.reason ? { reason: options.reason } : {}), ...(options.breakGlass ? { breakGlass: true } : {}),
      });
      const given = result.action.approval?.approvals.length ?? 0;
      process.stdout.write(result.decided ? `approved: the step is ${result.action.state}\n` : `approval recorded (${given} of ${result.action.approval?.quorum}); more approvers are needed\n`);
    });

  withConnection(actions.command('deny'))
    .description('deny a step awaiting approval')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, options: Connection & { reason: string }) => {
      const result = await callApi<{ action: ActionView }>(await apiTarget(options), 'POST', `/v1/actions/${encodeURIComponent(id)}/deny`, { reason: options.reason });
      process.stdout.write(`denied: ${result.action.action} on ${result.action.targetLabel}\n`);
    });
}
