// Runs before `npm run demo`, `npm test` and `npm run bench`, so that a fresh clone needs
// nothing but that one command: installs the dependencies (npm ci) when they are missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
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

if (!installed()) {
  console.error('[engram] Dependencies are missing: running `npm ci` (better-sqlite3 may build from source, about a minute)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip', ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
