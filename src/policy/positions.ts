import type { DetailedError } from './cedar.js';

/** A place in a source file, as editors show it (1-based line and column, in characters). */
export interface Position {
  line: number;
  column: number;
}

/**
 * Cedar reports byte offsets (UTF-8): this turns them into lines and columns of `text`, finding
 * the line by binary search so that placing every policy of a large document stays linear.
 */
export function positions(text: string): (byteOffset: number) => Position {
  // Errors of one document come one after the other: keep that document's line index.
  if (lastIndexed?.text === text) return lastIndexed.at;
  const bytes = Buffer.from(text, 'utf8');
  const lineStarts = [0];
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lineStarts.push(i + 1);
  const at = (byteOffset: number): Position => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (lineStarts[mid]! <= byteOffset) low = mid;
      else high = mid - 1;
    }
    const column = bytes.subarray(lineStarts[low]!, byteOffset).toString('utf8').length + 1;
    return { line: low + 1, column };
  };
  lastIndexed = { text, at };
  return at;
}

let lastIndexed: { text: string; at: (byteOffset: number) => Position } | undefined;

export function positionAt(text: string, byteOffset: number): Position {
  return positions(text)(byteOffset);
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Cedar's message with its label and help, on one line. */
export function describeCedarError(error: DetailedError): string {
  const label = error.sourceLocations?.find((l) => l.label)?.label;
  return [error.message, label, error.help].filter(Boolean).join('; ');
}

/** `name:line:col` of the error's first location, `base` bytes into `text`. */
export function locate(name: string, text: string, error: DetailedError, base = 0): string {
  const start = error.sourceLocations?.[0]?.start;
  if (start === undefined) return name;
  const { line, column } = positionAt(text, base + start);
  return `${name}:${line}:${column}`;
}
