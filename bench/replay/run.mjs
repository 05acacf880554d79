// Bundles the LoCoMo replay (it imports the TypeScript sources of the ranking code, so trying a
// ranking needs no build; the first run's ingest uses the built package) into bench/replay/.build/
// and runs it with the same arguments:
//
//   npm run build && node bench/replay/run.mjs [--variant name] [--dump /tmp/locomo-replay-dump.json] [--data path]
//
// Variants and their parameters (environment variables): bench/replay/variants.mjs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const outfile = `${here}.build/locomo-replay.mjs`;
await build({
  entryPoints: [`${here}locomo-replay.mjs`],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile,
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
