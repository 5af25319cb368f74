import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { EVENT_FORMATS, type EventFormat } from '../../domain/event.js';
import { InvalidInputError } from '../../domain/errors.js';
import { BATCH_SIZE, type IngestSummary, type RecordError } from '../../ingest/pipeline.js';
import type { Context } from '../../runtime/context.js';
import { printJson } from '../output.js';
import { cliActor, withContext } from '../session.js';

/** Errors printed in the summary; the count says how many there were in all. */
const MAX_ERRORS_SHOWN = 100;

export function ingestCommand(program: Command): void {
  program.command('ingest')
    .description('ingest a file of signals (JSON object, JSON array or NDJSON); exits 1 if any record was rejected')
    .argument('<file>', 'the file to read')
    .option('--format <format>', `${EVENT_FORMATS.join(' | ')} (recognised per record when absent)`)
    .action(async (file: string, options: { format?: string }) => {
      if (options.format !== undefined && !(EVENT_FORMATS as readonly string[]).includes(options.format)) {
        throw new InvalidInputError('ERR_EVENT_FORMAT', `unknown format "${options.format}"`, [{ path: '--format', message: `must be one of: ${EVENT_FORMATS.join(', ')}` }]);
      }
      const total = (await stat(file)).size;
      const summary = await withContext((context) => ingestFile(context, file, options.format as EventFormat | undefined, total));
      const { events: _ids, errors, ...counts } = summary;
      printJson({ file, ...counts, errors: errors.slice(0, MAX_ERRORS_SHOWN), ...(errors.length > MAX_ERRORS_SHOWN ? { errorsNotShown: errors.length - MAX_ERRORS_SHOWN } : {}) });
      if (summary.rejected > 0) process.exitCode = 1;
    });
}

/**
 * NDJSON is streamed in batches; a JSON document (an array, a pretty-printed object) is read
 * whole. Record numbers and line numbers in errors are the file's.
 */
async function ingestFile(context: Context, file: string, format: EventFormat | undefined, total: number): Promise<IngestSummary> {
  const summary: IngestSummary = { received: 0, stored: 0, duplicates: 0, rejected: 0, deadLettered: 0, detections: 0, events: [], errors: [] };
  // Two batches in flight: one is parsed while the other is written. Results are merged in file order.
  const inFlight: { part: Promise<IngestSummary | undefined>; firstLine: number; bytes: number }[] = [];
  const settle = async () => {
    const { part, firstLine, bytes } = inFlight.shift()!;
    const result = await part;
    if (result) merge(summary, result, firstLine);
    progress(summary, bytes, total);
  };
  const send = async (text: string, firstLine: number, bytes: number) => {
    const part = context.events.ingest(text, { format, channel: 'cli' }, cliActor()).catch((error) => {
      if (error instanceof InvalidInputError && error.code === 'ERR_EVENTS_EMPTY') return undefined;
      throw error;
    });
    part.catch(() => undefined); // awaited in settle(); keeps a failure from being unhandled meanwhile
    inFlight.push({ part, firstLine, bytes });
    if (inFlight.length >= 2) await settle();
  };
  if (await isDocument(file)) {
    await send(await readFile(file, 'utf8'), 1, total);
  } else {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let batch: string[] = [];
    let firstLine = 1;
    let lineNo = 0;
    let bytes = 0;
    for await (const line of lines) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      batch.push(line);
      if (batch.length === BATCH_SIZE) {
        await send(batch.join('\n'), firstLine, bytes);
        batch = [];
        firstLine = lineNo + 1;
      }
    }
    if (batch.length) await send(batch.join('\n'), firstLine, Math.min(bytes, total));
  }
  while (inFlight.length) await settle();
  if (process.stderr.isTTY) process.stderr.write('\n');
  return summary;
}

/** A file holding one JSON document (not one record per line): an array, or an object spread over lines. */
async function isDocument(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').trimStart();
    if (head.startsWith('[')) return true;
    const firstLine = head.split('\n', 1)[0]!.trim();
    if (!head.startsWith('{') || bytesRead === 0) return false;
    try {
      JSON.parse(firstLine);
      return false;
    } catch {
      return true;
    }
  } finally {
    await handle.close();
  }
}

function merge(into: IngestSummary, part: IngestSummary, firstLine: number): void {
  const offset = into.received;
  for (const key of ['received', 'stored', 'duplicates', 'rejected', 'deadLettered', 'detections'] as const) into[key] += part[key];
  into.events.push(...part.events.map((e) => ({ ...e, record: e.record + offset })));
  into.errors.push(...part.errors.map((e): RecordError => ({ ...e, record: e.record + offset, ...(e.line ? { line: e.line + firstLine - 1 } : {}) })));
}

function progress(s: IngestSummary, bytes: number, total: number): void {
  const pct = total ? Math.min(100, Math.round((bytes / total) * 100)) : 100;
  const line = `ingest: ${s.received} records (${pct}%): ${s.stored} stored, ${s.duplicates} duplicates, ${s.rejected} rejected, ${s.detections} detections`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
}
