import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Publish-ready, proven without publishing: `npm pack` every workspace package, install the
// tarballs into a new project as a user would install them from npm, and use the SDK, the `engram`
// bin and the `engram-mcp` bin there. Dependencies other than our own come from the npm cache
// (--prefer-offline), or the registry when the cache lacks one.

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(root, 'packages/engram/dist/index.js')) && existsSync(join(root, 'packages/mcp/dist/bin.js'));
const skipReason = 'the packages are not built: `npm test` builds them first (or run `npm run build`)';

interface PackedFile {
  path: string;
}
interface Packed {
  name: string;
  filename: string;
  files: PackedFile[];
}
interface Manifest {
  name: string;
  license?: string;
  engines?: { node?: string };
  repository?: { url?: string; directory?: string };
  files?: string[];
  bin?: Record<string, string>;
  exports?: Record<string, string | { types?: string; import?: string }>;
  main?: string;
  types?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function run(command: string, args: string[], cwd: string, timeout = 180_000) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

const folder = mkdtempSync(join(tmpdir(), 'engram-packed-'));
const project = join(folder, 'project');
let packed: Packed[] = [];
// The frameworks each integration package is built on: required peers (every other peer is optional).
const frameworkPeers: Record<string, string[]> = {
  '@engram/ai-sdk': ['ai'],
  '@engram/langgraph': ['@langchain/core', '@langchain/langgraph-checkpoint'],
  '@engram/mastra': ['@mastra/core'],
};
const manifests = new Map<string, Manifest>();

// Removing the installed project (hundreds of MB of node_modules) took over a minute on a loaded machine.
afterAll(() => rmSync(folder, { recursive: true, force: true }), 600_000);

describe.skipIf(!built)(`packed tarballs installed into a new project${built ? '' : ` (skipped: ${skipReason})`}`, () => {
  beforeAll(() => {
    const tarballs = join(folder, 'tarballs');
    mkdirSync(tarballs, { recursive: true });
    packed = JSON.parse(
      run('npm', ['pack', '--workspaces', '--pack-destination', tarballs, '--json', '--silent'], root).stdout,
    ) as Packed[];
    for (const entry of packed) {
      const directory = join(root, 'node_modules', entry.name);
      manifests.set(entry.name, JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as Manifest);
    }
    mkdirSync(project, { recursive: true });
    const dependencies = Object.fromEntries(packed.map((entry) => [entry.name, `file:../tarballs/${entry.filename}`]));
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'engram-packed-test', private: true, type: 'module', dependencies }, null, 2)}\n`,
    );
    // Install scripts are skipped: the only one this tree needs is better-sqlite3's native build,
    // which `npm ci` already did for this same version and Node; its binary is copied below
    // (what prebuild-install does with a downloaded one) instead of compiling it again.
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project, 240_000);
    const installedSqlite = join(project, 'node_modules', 'better-sqlite3');
    const repositorySqlite = createRequire(join(root, 'package.json'))
      .resolve('better-sqlite3/package.json')
      .replace(/package\.json$/, '');
    const version = (directory: string) =>
      (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version: string }).version;
    const binary = join('build', 'Release', 'better_sqlite3.node');
    if (version(installedSqlite) === version(repositorySqlite) && existsSync(join(repositorySqlite, binary))) {
      mkdirSync(join(installedSqlite, 'build', 'Release'), { recursive: true });
      copyFileSync(join(repositorySqlite, binary), join(installedSqlite, binary));
    } else {
      run('npm', ['rebuild', 'better-sqlite3', '--loglevel=error'], project, 300_000);
    }
  }, 600_000);

  it('packs every workspace package with what npm needs: README, license, engines, repository, and every export and bin in the tarball', () => {
    const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    expect(packed.map((entry) => entry.name).sort()).toHaveLength(workspaces.length);
    for (const entry of packed) {
      const manifest = manifests.get(entry.name) as Manifest;
      const files = new Set(entry.files.map((file) => file.path));
      const where = `${entry.name} (${entry.filename})`;
      expect(files.has('README.md'), `${where}: README.md`).toBe(true);
      expect(manifest.license, `${where}: license`).toBe('MIT');
      expect(manifest.engines?.node, `${where}: engines.node`).toBe('>=20');
      expect(manifest.repository?.directory, `${where}: repository.directory`).toBe(`packages/${entry.name.replace(/^@engram\//, '')}`);
      for (const path of files) {
        expect(path, `${where}: only built files, no sources or tests`).toMatch(/^(dist\/|bin\/|README\.md$|package\.json$|LICENSE$)/);
        expect(path, `${where}: no test files`).not.toMatch(/\.test\./);
      }
      const targets = [
        ...Object.values(manifest.bin ?? {}),
        ...Object.values(manifest.exports ?? {}).flatMap((target) =>
          typeof target === 'string' ? [target] : [target.types, target.import],
        ),
        manifest.main,
        manifest.types,
      ].filter((target): target is string => typeof target === 'string');
      for (const target of targets) expect(files.has(target.replace(/^\.\//, '')), `${where}: ${target} is in the tarball`).toBe(true);
      for (const [peer] of Object.entries(manifest.peerDependencies ?? {})) {
        if (peer === '@engram/core') continue;
        // A framework integration is useless without its framework: that peer is required.
        if (frameworkPeers[manifest.name]?.includes(peer)) continue;
        expect(manifest.peerDependenciesMeta?.[peer]?.optional, `${where}: peer ${peer} is optional`).toBe(true);
      }
    }
  });

  it("runs `import { Memory } from 'engram'`: add and search on the default SQLite file", () => {
    const script = [
      "import { Memory } from 'engram';",
      "const memory = new Memory({ path: './.engram/memory.db' });",
      "await memory.add({ content: 'Checkout times out when the DB pool is exhausted', type: 'bug', tags: ['checkout'] });",
      "const hits = await memory.search('why does checkout time out?', { tags: ['checkout'] });",
      'console.log(JSON.stringify({ content: hits[0]?.memory.content, type: hits[0]?.memory.type, store: memory.store.name }));',
      'await memory.close();',
    ].join('\n');
    writeFileSync(join(project, 'sdk.mjs'), script);
    const result = run(process.execPath, ['sdk.mjs'], project, 60_000);
    expect(JSON.parse(result.stdout)).toEqual({
      content: 'Checkout times out when the DB pool is exhausted',
      type: 'error',
      store: 'sqlite',
    });
    expect(existsSync(join(project, '.engram', 'memory.db'))).toBe(true);
  });

  it('runs the engram bin: --help, add, search', () => {
    expect(run('npx', ['--offline', 'engram', '--help'], project, 60_000).stdout).toMatch(/Usage: engram/);
    run(
      'npx',
      ['--offline', 'engram', 'add', 'Pool size 50 fixed the checkout timeouts', '--type', 'insight', '--path', 'cli.db'],
      project,
      60_000,
    );
    const search = run('npx', ['--offline', 'engram', 'search', 'checkout timeouts', '--path', 'cli.db', '--json'], project, 60_000);
    expect((JSON.parse(search.stdout) as { hits: Array<{ memory: { content: string } }> }).hits[0]?.memory.content).toBe(
      'Pool size 50 fixed the checkout timeouts',
    );
  });

  it('runs the engram-mcp bin over stdio: initialize, then tools/list', async () => {
    const bin = join(project, 'node_modules', '.bin', 'engram-mcp');
    const child: ChildProcess = spawn(bin, ['--path', join(project, 'mcp.db')], { cwd: project, stdio: ['pipe', 'pipe', 'pipe'] });
    const responses = new Map<number, { result?: { tools?: Array<{ name: string }>; serverInfo?: { name: string } } }>();
    let buffer = '';
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const answered = (id: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to request ${id}; stderr: ${stderr}`)), 20_000);
        const check = () => {
          if (!responses.has(id)) return;
          clearTimeout(timer);
          child.stdout?.off('data', check);
          resolve();
        };
        child.stdout?.on('data', check);
        check();
      });
    child.stdout?.on('data', (chunk) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) {
          const message = JSON.parse(line) as { id?: number; result?: { tools?: Array<{ name: string }>; serverInfo?: { name: string } } };
          if (typeof message.id === 'number') responses.set(message.id, message);
        }
        newline = buffer.indexOf('\n');
      }
    });
    const send = (message: object) => child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    try {
      send({
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'packed-test', version: '1' } },
      });
      await answered(1);
      expect(responses.get(1)?.result?.serverInfo?.name).toMatch(/engram/);
      send({ method: 'notifications/initialized' });
      send({ id: 2, method: 'tools/list' });
      await answered(2);
      const names = responses.get(2)?.result?.tools?.map((tool) => tool.name) ?? [];
      expect(names).toEqual(expect.arrayContaining(['memory_store', 'memory_search', 'memory_context', 'memory_link']));
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await exited;
    }
  });
});
