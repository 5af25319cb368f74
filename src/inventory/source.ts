import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { InvalidInputError, type Issue } from '../domain/errors.js';

/** One parsed inventory file, able to say where a path inside it is written. */
export interface InventorySource {
  file: string;
  document: unknown;
  /** `file:line:col` of the value at a JSON-pointer path (or of its closest parent). */
  locate(path: string): string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads files and directories (their `.yaml`/`.yml`/`.json` files, sorted) into sources. */
export async function readInventorySources(paths: string[]): Promise<InventorySource[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new InvalidInputError('ERR_INVENTORY_FILE', `${path}: no such file or directory`, [{ path: '', source: path, message: 'no such file or directory' }]);
    });
    if (info.isDirectory()) {
      const entries = (await readdir(path)).filter((f) => EXTENSIONS.has(extname(f))).sort();
      files.push(...entries.map((f) => join(path, f)));
    } else {
      files.push(path);
    }
  }
  const sources: InventorySource[] = [];
  const issues: Issue[] = [];
  for (const file of files) {
    try {
      sources.push(parseInventoryText(await readFile(file, 'utf8'), file));
    } catch (error) {
      if (error instanceof InvalidInputError) issues.push(...error.issues);
      else throw error;
    }
  }
  if (issues.length) throw syntaxError(issues);
  return sources;
}

/**
 * Parses YAML or JSON (JSON is YAML) keeping positions, so validation errors can point to the
 * line of the offending field.
 */
export function parseInventoryText(text: string, file: string): InventorySource {
  return parseSourceText(text, file, 'ERR_INVENTORY_SYNTAX');
}

/** Any YAML or JSON document Cordon reads from a file (inventories, playbooks), with positions. */
export function parseSourceText(text: string, file: string, syntaxCode: string): InventorySource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    throw syntaxError(doc.errors.map((e) => ({ path: '', source: position(e.pos[0]), message: e.message.split('\n')[0] ?? e.code })), syntaxCode);
  }
  return {
    file,
    document: doc.toJS({ maxAliasCount: 100 }),
    locate(path) {
      let node: Node | null | undefined = doc.contents as Node | null;
      let found = node?.range ? position(node.range[0]) : file;
      for (const segment of path.split('/').slice(1)) {
        node = childOf(node, segment);
        if (!node) break;
        if (node.range) found = position(node.range[0]);
      }
      return found;
    },
  };
}

function childOf(node: Node | null | undefined, segment: string): Node | null | undefined {
  const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
  if (isSeq(node)) return node.items[Number(key)] as Node | undefined;
  if (isMap(node)) {
    const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    return (pair?.value ?? pair?.key) as Node | null | undefined;
  }
  return undefined;
}

function syntaxError(issues: Issue[], code = 'ERR_INVENTORY_SYNTAX'): InvalidInputError {
  return new InvalidInputError(
    code,
    issues.map((i) => `${i.source}: ${i.message}`).join('\n'),
    issues,
  );
}
