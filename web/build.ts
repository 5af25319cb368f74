/**
 * Builds the console for production into web/dist, when it is missing or stale: `npm ci`
 * (prepare), `npm start` (prestart) and `npm test` (pretest) run this, so no one builds by hand.
 * Stale means the digest of the inputs (the console's sources, the domain vocabulary it imports,
 * the lockfile) differs from the one the last build wrote into dist/build.json.
 *
 *   node --import tsx web/build.ts          build when missing or stale
 *   node --import tsx web/build.ts --force  build anyway
 *   node --import tsx web/build.ts --check  exit 1 when missing or stale
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

const WEB = fileURLToPath(new URL('.', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(WEB, 'dist');
const BUILD_INFO = 'build.json';

/** Files and folders whose content decides the build. */
const INPUTS = ['web/index.html', 'web/vite.config.ts', 'web/build.ts', 'web/tsconfig.json', 'web/src', 'src/domain', 'package-lock.json'];
/** Compressed copies served to clients that accept them (@fastify/static `preCompressed`). */
const COMPRESSIBLE = /\.(js|css|svg|json|map)$/;

export type BuildState = 'fresh' | 'stale' | 'missing';

export async function inputsDigest(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await Promise.all(INPUTS.map((input) => filesUnder(join(REPOSITORY, input))))).flat().sort()) {
    hash.update(relative(REPOSITORY, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

export async function buildState(): Promise<BuildState> {
  const info = await readFile(join(DIST, BUILD_INFO), 'utf8').then((text) => JSON.parse(text) as { digest?: string }, () => undefined);
  if (!info) return 'missing';
  return info.digest === await inputsDigest() ? 'fresh' : 'stale';
}

/**
 * Builds into a fresh folder, then swaps it in, so a server reading web/dist never sees half a
 * build and a build that fails leaves the last good one in place.
 */
export async function buildConsole(): Promise<void> {
  const { build } = await import('vite');
  const digest = await inputsDigest();
  const staging = join(WEB, `.dist-${process.pid}`);
  const previous = join(WEB, `.dist-old-${process.pid}`);
  try {
    await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn', build: { outDir: staging, emptyOutDir: true } });
    await compressAssets(join(staging, 'assets'));
    await writeFile(join(staging, BUILD_INFO), `${JSON.stringify({ digest, builtAt: new Date().toISOString() }, null, 2)}\n`);
    await rename(DIST, previous).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, DIST);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(previous, { recursive: true, force: true });
  }
}

async function compressAssets(folder: string): Promise<void> {
  const files = (await readdir(folder)).filter((name) => COMPRESSIBLE.test(name));
  await Promise.all(files.map(async (name) => {
    const content = await readFile(join(folder, name));
    if (content.length < 1024) return;
    const [br, gz] = await Promise.all([
      promisify(brotliCompress)(content, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: content.length } }),
      promisify(gzip)(content, { level: 9 }),
    ]);
    await writeFile(join(folder, `${name}.br`), br);
    await writeFile(join(folder, `${name}.gz`), gz);
  }));
}

async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isFile()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  return (await Promise.all(entries.map((entry) => filesUnder(join(path, entry.name))))).flat();
}

async function main(args: string[]): Promise<void> {
  const state = await buildState();
  if (args.includes('--check')) {
    if (state !== 'fresh') {
      console.error(`web/dist is ${state}: run npm run build:web`);
      process.exitCode = 1;
    }
    return;
  }
  if (state === 'fresh' && !args.includes('--force')) return;
  const started = Date.now();
  console.error(state === 'fresh' ? 'Building the console…' : `The console build is ${state}; building it…`);
  await buildConsole();
  console.error(`Built the console into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv.slice(2));
}
