import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIDENCES, DETECTION_TYPES, SEVERITIES, type Confidence, type DetectionType, type Severity } from '../../domain/detection.js';
import { InvalidInputError } from '../../domain/errors.js';
import { loadPlaybookDir } from '../../respond/playbooks/load.js';
import type { DryRun } from '../../respond/service.js';
import { loadConfig } from '../../runtime/config.js';
import { printJson } from '../output.js';
import { withContext } from '../session.js';

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError('ERR_CLI_OPTION', `${name} must be one of: ${allowed.join(', ')}`, [{ path: name, message: `must be one of: ${allowed.join(', ')}` }]);
  }
  return value as T;
}

/** The plan as a person reads it: one line per step, its diff below. */
function printPlan(plan: DryRun): void {
  process.stdout.write(`playbook ${plan.playbook.id} v${plan.playbook.version}: ${plan.playbook.title}\n`);
  for (const run of plan.runs) {
    const approval = run.approval ? ` [approval: ${run.approval.quorum} of ${run.approval.roles.join('/')} — ${run.approval.reasons.join('; ')}]` : '';
    process.stdout.write(`${String(run.seq).padStart(2)}. ${run.tier}/${run.stepId}: ${run.action} on ${run.target.label} by ${run.performer ?? '-'} → ${run.disposition}${run.reason ? ` (${run.reason})` : ''}${approval}\n`);
    if (run.diff && 'changes' in run.diff) {
      for (const change of run.diff.changes) process.stdout.write(`      ${change.op} ${change.object}: ${change.detail}\n`);
      if (run.diff.changes.length === 0) process.stdout.write('      (nothing to change)\n');
    } else if (run.diff) process.stdout.write(`      cannot read the diff: ${run.diff.code}: ${run.diff.error}\n`);
  }
  for (const escalation of plan.escalations) process.stdout.write(`escalation (${escalation.code}): ${escalation.reason}\n`);
}

export function playbooksCommand(program: Command): void {
  const playbooks = program.command('playbooks').description('response playbooks: validate them, see what they would do');

  playbooks.command('validate')
    .description('validate a playbook directory; exit 1 naming each problem at file:line:col, playbook, step and field')
    .argument('[dir]', 'playbook directory (default: CORDON_PLAYBOOK_DIR, or the shipped playbooks/)')
    .action(async (dir?: string) => {
      const loaded = await loadPlaybookDir(dir ? resolve(dir) : loadConfig().playbookDir);
      for (const p of loaded) process.stdout.write(`ok  ${p.id}: ${p.steps.length} step(s), matches ${p.match.types.join(', ')}\n`);
      process.stdout.write(`${loaded.length} playbook(s) valid\n`);
    });

  playbooks.command('dry-run')
    .description('show the exact plan for a detection, reading each target system, changing nothing')
    .option('--detection <id>', 'a stored detection')
    .option('--type <type>', `or a detection described: ${DETECTION_TYPES.join(' | ')}`)
    .option('--severity <severity>', SEVERITIES.join(' | '), 'high')
    .option('--confidence <confidence>', CONFIDENCES.join(' | '), 'confirmed')
    .option('--identity <id>', 'the identity it names')
    .option('--credential <id>', 'the credential it names')
    .option('--playbook <id>', 'this playbook instead of the one that matches')
    .option('--json', 'print the plan as JSON')
    .action(async (options: { detection?: string; type?: string; severity: string; confidence: string; identity?: string; credential?: string; playbook?: string; json?: boolean }) => {
      if (!options.detection && !options.type) {
        throw new InvalidInputError('ERR_CLI_OPTION', 'give --detection, or describe one with --type (and --identity)', [{ path: '--detection', message: 'or --type is required' }]);
      }
      const input = options.detection ? { detectionId: options.detection } : {
        detection: {
          type: oneOf<DetectionType>('--type', options.type, DETECTION_TYPES), severity: oneOf<Severity>('--severity', options.severity, SEVERITIES),
          confidence: oneOf<Confidence>('--confidence', options.confidence, CONFIDENCES), title: `${options.type} (dry run)`,
          identityId: options.identity ?? null, credentialId: options.credential ?? null,
        },
      };
      const plan = await withContext((context) => context.responses.dryRun(input, options.playbook));
      if (options.json) printJson(plan);
      else printPlan(plan);
    });
}
