/**
 * `npm run bench [-- name ... [--fresh]]`: runs the named benchmarks (all by default). Each
 * prints its figures and their ratio to a baseline measured in the same run.
 */
const BENCHES: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  'blast-radius': () => import('./blast-radius.js'),
  broker: () => import('./broker.js'),
  containment: () => import('./containment.js'),
  ingest: () => import('./ingest.js'),
  pdp: () => import('./pdp.js'),
};

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !BENCHES[n]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of names.length ? names : Object.keys(BENCHES)) {
  await (await BENCHES[name]!()).run(args.filter((a) => a.startsWith('--')));
}
