import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresSkipReason, startPostgres } from './support/postgres.js';

// The doc-test convention (README.md, Development): every fenced block tagged ts, js, sh or bash
// in README.md and docs/**/*.md runs as pasted, in the order of its page. `norun` in the info
// string (```ts norun) opts a block out; json, text and other languages are never run.
//
// How a page runs, as a reader following it would:
// - its blocks share one fresh temporary folder, which is both the working directory and HOME,
//   so files a block writes (./.engram/memory.db, backup.jsonl…) are there for the next block
//   and nothing is written into the repository;
// - `engram`, `@engram/*` and every dependency resolve to this repository's workspace packages
//   and their built dist/ (the folder gets a node_modules link to the repository's), exactly as
//   after `npm install engram`; sh blocks find `engram` and `engram-mcp` on PATH, as after
//   `npm install -g engram` or `npm link` (docs/cli.md), and `npx engram` works as in a clone;
// - ts blocks are compiled with esbuild (tsup's compiler) and run by node as ES modules;
//   sh/bash blocks run in bash with `set -eo pipefail`, so any failing command fails the block;
// - a page that reads process.env.DATABASE_URL gets a throwaway PostgreSQL server's database
//   (tests/support/postgres.ts); without PostgreSQL binaries the page is skipped with the reason
//   (in CI that is a failure, as for the adapter's own suites).

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNNABLE = new Set(['ts', 'js', 'sh', 'bash']);
const BLOCK_TIMEOUT_MS = 60_000;

interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  flags: string[];
  code: string;
}

/** Fenced blocks of a Markdown file (``` or ~~~, any length ≥ 3; indented fences included). */
function extractBlocks(file: string, text: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[index] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '```', language = '', rest = ''] = open;
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length; end++) {
      const line = lines[end] ?? '';
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line)?.[1];
      if (close && close[0] === fence[0] && close.length >= fence.length) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line);
    }
    blocks.push({
      file,
      line: index + 1,
      language: language.toLowerCase(),
      flags: rest.split(/[\s,]+/).filter(Boolean),
      code: `${body.join('\n')}\n`,
    });
    index = end;
  }
  return blocks;
}

function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (directory: string) => {
    for (const entry of readdirSync(join(root, directory), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files;
}

function isRunnable(block: DocBlock): boolean {
  return RUNNABLE.has(block.language) && !block.flags.includes('norun');
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a server a block starts is stopped with it.
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(killGroup, BLOCK_TIMEOUT_MS - 2_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, stdout, stderr });
    });
  });
}

const built = existsSync(join(root, 'packages/engram/dist/index.js')) && existsSync(join(root, 'packages/mcp/dist/bin.js'));
const skipReason = 'the packages are not built: `npm test` builds them first (or run `npm run build`)';
const folders: string[] = [];
let postgres: Promise<PostgresServer> | undefined;
afterAll(async () => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  if (postgres) (await postgres.catch(() => undefined))?.stop();
});

describe('extractBlocks', () => {
  it('reads the language, the flags and the body of each fence', () => {
    const text = ['# t', '```ts norun', 'const a = 1;', '```', '', '````sh', 'echo "```"', '````', '```json', '{}', '```'].join('\n');
    expect(extractBlocks('x.md', text).map(({ line, language, flags, code }) => ({ line, language, flags, code }))).toEqual([
      { line: 2, language: 'ts', flags: ['norun'], code: 'const a = 1;\n' },
      { line: 6, language: 'sh', flags: [], code: 'echo "```"\n' },
      { line: 9, language: 'json', flags: [], code: '{}\n' },
    ]);
  });
});

for (const file of markdownFiles()) {
  const blocks = extractBlocks(file, readFileSync(join(root, file), 'utf8')).filter(isRunnable);
  if (blocks.length === 0) continue;
  const needsPostgres = blocks.some((block) => block.code.includes('process.env.DATABASE_URL'));
  const reason = !built ? skipReason : needsPostgres ? postgresSkipReason() : undefined;
  describe.skipIf(reason !== undefined)(`${file}${reason ? ` (skipped: ${reason})` : ''}`, () => {
    let folder = '';
    let env: NodeJS.ProcessEnv = {};
    const prepare = async () => {
      if (folder) return;
      folder = mkdtempSync(join(tmpdir(), 'engram-doc-'));
      folders.push(folder);
      // Each installed package is linked one by one (not the whole node_modules folder), so that
      // an npm command in a block can only ever change this temporary folder.
      mkdirSync(join(folder, 'node_modules'));
      for (const entry of readdirSync(join(root, 'node_modules'))) {
        if (entry === '.package-lock.json' || entry === '.cache') continue;
        symlinkSync(join(root, 'node_modules', entry), join(folder, 'node_modules', entry), 'dir');
      }
      // A package.json makes the folder a project (npx and node resolve from here, not above).
      writeFileSync(join(folder, 'package.json'), `${JSON.stringify({ name: 'engram-doc-test', private: true, type: 'module' })}\n`);
      mkdirSync(join(folder, '.cache'), { recursive: true });
      const { ENGRAM_PATH: _path, ENGRAM_EMBEDDER: _embedder, npm_config_prefix: _prefix, ...rest } = process.env;
      env = {
        ...rest,
        HOME: folder,
        XDG_CACHE_HOME: join(folder, '.cache'),
        npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? folder, '.npm'),
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
        PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
        NO_COLOR: '1',
      };
      if (needsPostgres) {
        postgres ??= startPostgres();
        env.DATABASE_URL = await (await postgres).createDatabase(`doc_${file.replace(/\W+/g, '_').toLowerCase()}`);
      }
    };
    for (const block of blocks) {
      it(`${block.file}:${block.line}`, { timeout: BLOCK_TIMEOUT_MS }, async () => {
        await prepare();
        const name = `block-${block.line}`;
        let result: RunResult;
        if (block.language === 'ts' || block.language === 'js') {
          const compiled = await transform(block.code, {
            loader: block.language,
            format: 'esm',
            target: 'node20',
            sourcefile: `${block.file}:${block.line}`,
          });
          const script = join(folder, `${name}.mjs`);
          writeFileSync(script, compiled.code);
          result = await run(process.execPath, [script], folder, env);
        } else {
          const script = join(folder, `${name}.sh`);
          writeFileSync(script, `set -eo pipefail\n${block.code}`);
          result = await run('bash', [script], folder, env);
        }
        const where = relative(root, join(root, block.file));
        expect(
          result.code,
          `${where}:${block.line} (${block.language}) exited with ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
        ).toBe(0);
      });
    }
  });
}
