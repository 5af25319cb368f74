import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** The p-th percentile (0..100) of samples, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[rank] ?? NaN;
}

export async function timeMs<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Target from SPEC §5, when there is one. */
  target?: { op: '<=' | '>='; value: number };
}

/** Prints a benchmark's figures, its baseline and the ratio, in one block a reader can scan. */
export function report(title: string, figures: Figure[], baseline: { name: string; figures: Figure[] }, ratios: { name: string; value: number; target?: number }[]): void {
  const line = (f: Figure) => {
    const target = f.target ? `   target ${f.target.op} ${f.target.value} ${f.unit}: ${(f.target.op === '<=' ? f.value <= f.target.value : f.value >= f.target.value) ? 'met' : 'NOT met'}` : '';
    return `  ${f.name.padEnd(34)} ${fmt(f.value).padStart(12)} ${f.unit}${target}`;
  };
  console.log(`\n== ${title}`);
  for (const f of figures) console.log(line(f));
  console.log(`  baseline: ${baseline.name}`);
  for (const f of baseline.figures) console.log(line(f));
  for (const r of ratios) {
    const target = r.target === undefined ? '' : `   target >= ${r.target}x: ${r.value >= r.target ? 'met' : 'NOT met'}`;
    console.log(`  ratio ${r.name.padEnd(28)} ${fmt(r.value).padStart(12)} x${target}`);
  }
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
}

let clockTicks: number | undefined;

/**
 * CPU time (user + system, ms) a process of this machine has used so far, from `/proc`; undefined
 * where that cannot be read (another OS, a server on another host, or the process has exited).
 */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** CPU time used so far by each of several processes (see `processCpuMs`); undefined when any cannot be read. */
export async function processesCpuMs(pids: number[]): Promise<Map<number, number> | undefined> {
  const used = new Map<number, number>();
  for (const pid of pids) {
    const ms = await processCpuMs(pid);
    if (ms === undefined) return undefined;
    used.set(pid, ms);
  }
  return used;
}
