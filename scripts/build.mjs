// `npm run build`, and the build step of `npm test`, `npm run demo` and `npm run bench`.
// Builds each workspace (in the order of the root package.json, so a package's dependencies are
// built before it) only when its sources changed since its last build, prints one line per
// package it builds (one line in all when nothing changed), and shows the build's own output only
// when it fails.
//
//   node scripts/build.mjs            build what is out of date
//   node scripts/build.mjs --force    rebuild every package
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './ensure-installed.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const force = process.argv.includes('--force');
// One stamp per package, outside dist/ (so it is never packed); a missing dist/ also means stale.
const stamps = join(root, 'node_modules', '.cache', 'engram-build');
const ignoredDirectories = new Set(['dist', 'node_modules', '.turbo', 'coverage']);

function newestModification(directory) {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (ignoredDirectories.has(entry.name)) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestModification(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function workspaceNames(manifest) {
  return Array.isArray(manifest.workspaces) ? manifest.workspaces : (manifest.workspaces?.packages ?? []);
}

ensureInstalled();

const rootManifest = readJson(join(root, 'package.json'));
// Inputs shared by every package: a change to the base compiler options rebuilds everything.
const sharedInputs = ['tsconfig.base.json', 'package-lock.json']
  .map((file) => join(root, file))
  .filter((path) => existsSync(path))
  .reduce((newest, path) => Math.max(newest, statSync(path).mtimeMs), 0);

const rebuilt = new Set();
const upToDate = [];
let failed = false;
for (const workspace of workspaceNames(rootManifest)) {
  const directory = join(root, workspace);
  const manifestPath = join(directory, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = readJson(manifestPath);
  if (!manifest.scripts?.build) continue;
  const name = manifest.name ?? workspace;
  const stamp = join(stamps, `${workspace.replace(/[\\/]/g, '__')}.stamp`);
  const dependsOnRebuilt = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies }).some(
    (dependency) => rebuilt.has(dependency),
  );
  const stale =
    force ||
    dependsOnRebuilt ||
    !existsSync(stamp) ||
    !existsSync(join(directory, 'dist')) ||
    Math.max(sharedInputs, newestModification(directory)) > statSync(stamp).mtimeMs;
  if (!stale) {
    upToDate.push(name);
    continue;
  }
  const started = performance.now();
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: directory, encoding: 'utf8', shell: false });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`build ${name}: FAILED after ${seconds} s`);
    process.stderr.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    if (result.error) console.error(result.error.message);
    failed = true;
    break;
  }
  mkdirSync(stamps, { recursive: true });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  rebuilt.add(name);
  console.log(`build ${name}: ${seconds} s`);
}

if (!failed && upToDate.length > 0) {
  console.log(
    rebuilt.size === 0 ? `build: all ${upToDate.length} packages up to date` : `build: ${upToDate.length} other packages up to date`,
  );
}
process.exit(failed ? 1 : 0);
