import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidInputError } from '../../domain/errors.js';
import { verifyEvidenceChain, type EvidenceItem } from '../../incidents/evidence.js';
import { apiTarget, callApi, callApiText, withConnection, type Connection } from '../api-client.js';
import { printJson } from '../output.js';


interface IncidentRow {
  id: string;
  status: string;
  severity: string;
  title: string;
  escalated: boolean;
  openedAt: string;
}


/** Incidents, read through the API; an exported evidence chain checked offline. */
export function incidentsCommand(program: Command): void {
  const incidents = program.command('incidents').description('incidents: list, show, export their report, check exported evidence');

  withConnection(incidents.command('list'))
    .description('incidents, newest first')
    .option('--open', 'only those not closed')
    .option('--status <status>', 'only this status')
    .action(async (options: Connection & { open?: boolean; status?: string }) => {
      const query = new URLSearchParams({ ...(options.open ? { open: 'true' } : {}), ...(options.status ? { status: options.status } : {}) });
      const { items } = await callApi<{ items: IncidentRow[] }>(await apiTarget(options), 'GET', `/v1/incidents?${query}`);
      for (const i of items) process.stdout.write(`${i.id}  ${i.status.padEnd(10)} ${i.severity.padEnd(8)} ${i.escalated ? 'escalated ' : ''}${i.title}\n`);
      if (items.length === 0) process.stdout.write('no incidents\n');
    });

  withConnection(incidents.command('show'))
    .description('one incident with its detections, actions, tasks, evidence and timeline (JSON)')
    .argument('<id>')
    .action(async (id: string, options: Connection) => printJson(await callApi(await apiTarget(options), 'GET', `/v1/incidents/${encodeURIComponent(id)}`)));

  withConnection(incidents.command('report'))
    .description('the incident report, mapped to NIST CSF 2.0 and the OWASP NHI Top 10')
    .argument('<id>')
    .option('--format <format>', 'md | json', 'md')
    .option('-o, --output <file>', 'write it to a file instead of stdout')
    .action(async (id: string, options: Connection & { format: string; output?: string }) => {
      if (!['md', 'json'].includes(options.format)) throw new InvalidInputError('ERR_CLI_OPTION', '--format must be md or json', [{ path: '--format', message: 'must be md or json' }]);
      const text = await callApiText(await apiTarget(options), `/v1/incidents/${encodeURIComponent(id)}/report?format=${options.format}`);
      if (options.output) await writeFile(options.output, text);
      else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });

  withConnection(incidents.command('evidence'))
    .description('export the evidence chain (contents and hashes) as JSON')
    .argument('<id>')
    .option('-o, --output <file>', 'write it to a file instead of stdout')
    .action(async (id: string, options: Connection & { output?: string }) => {
      const text = await callApiText(await apiTarget(options), `/v1/incidents/${encodeURIComponent(id)}/evidence`);
      if (options.output) await writeFile(options.output, text);
      else process.stdout.write(`${text}\n`);
    });

  incidents.command('verify-evidence')
    .description('check an exported evidence chain offline (no server, no store): exit 1 naming the first item that does not hold')
    .argument('<file>', 'the JSON `incidents evidence` wrote')
    .action(async (file: string) => {
      const exported = JSON.parse(await readFile(file, 'utf8')) as { incidentId: string; items: (EvidenceItem & { collectedAt: string })[] };
      const result = verifyEvidenceChain(exported.items.map((i) => ({ ...i, collectedAt: new Date(i.collectedAt) })));
      if (result.ok) process.stdout.write(`evidence of incident ${exported.incidentId}: ${result.checked} item(s), chain intact, head ${exported.items.at(-1)?.hash ?? '(empty)'}\n`);
      else {
        process.stdout.write(`evidence of incident ${exported.incidentId}: BROKEN at item ${result.firstBad!.seq} (${result.firstBad!.id}): ${result.firstBad!.reason}\n`);
        process.exitCode = 1;
      }
    });
}
