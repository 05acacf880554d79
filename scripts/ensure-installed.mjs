// Used by scripts/build.mjs (the build step of `npm run demo`, `npm test` and `npm run bench`),
// so that a fresh clone needs nothing but that one command: installs the dependencies (npm ci)
// when they are missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(new URL('../package.json', import.meta.url));

function installed() {
  if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) return false;
  try {
    require.resolve('better-sqlite3');
    require.resolve('vitest/package.json');
    return true;
  } catch {
    return false;
  }
}

export function ensureInstalled() {
  if (installed()) return;
  console.error('[engram] Dependencies are missing: running `npm ci` (better-sqlite3 may build from source, about a minute)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
