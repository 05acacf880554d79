import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function engram(args: string[], options: { cwd: string; stdin?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      // The hash embedder: deterministic and offline (no model download in tests).
      env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_PATH: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

describe('the built engram bin', () => {
  it('adds, searches and exports against a SQLite file', async (context) => {
    if (!existsSync(bin)) context.skip('run `npm run build` first: packages/engram/dist/cli.js is missing');
    const cwd = mkdtempSync(join(tmpdir(), 'engram-cli-e2e-'));
    directories.push(cwd);
    const path = join(cwd, 'nested', 'memory.db');

    const added = await engram(
      ['add', 'Flaky tests come from shared temp directories', '--type', 'bug', '--tags', 'ci', '--path', path, '--json'],
      { cwd },
    );
    expect(added.code, added.stderr).toBe(0);
    const memory = JSON.parse(added.stdout).memory;
    expect(memory).toMatchObject({ type: 'error', subtype: 'bug', tags: ['ci'] });
    expect(existsSync(path)).toBe(true);

    const piped = await engram(['add', '-', '--path', path, '--type', 'insight'], {
      cwd,
      stdin: 'Cache keys must include the lockfile hash\n',
    });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^created [0-9a-f-]{36} \(learning\/insight\)\n$/);

    const search = await engram(['search', 'flaky', 'temp', '--path', path, '--json'], { cwd });
    expect(search.code, search.stderr).toBe(0);
    expect(JSON.parse(search.stdout).hits[0].memory.id).toBe(memory.id);

    const human = await engram(['search', 'lockfile', '--path', path, '--mode', 'lexical'], { cwd });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^\d\.\d{3} {2}[0-9a-f-]{36} {2}learning\/insight {2}\d{4}-\d{2}-\d{2} {2}Cache keys/);

    const exported = await engram(['export', '--path', path], { cwd });
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.content).sort()).toEqual([
      'Cache keys must include the lockfile hash',
      'Flaky tests come from shared temp directories',
    ]);

    const file = join(cwd, 'backup.jsonl');
    const toFile = await engram(['export', file, '--path', path], { cwd });
    expect(toFile.code, toFile.stderr).toBe(0);
    const copy = join(cwd, 'copy.db');
    const imported = await engram(['import', file, '--path', copy, '--json'], { cwd });
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ records: 2, created: 2, failed: 0 });
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);

    const stats = await engram(['stats', '--path', copy, '--json'], { cwd });
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      store: { name: 'sqlite' },
      embedder: { id: 'hash-v1-384' },
      total: 2,
      fileBytes: expect.any(Number),
    });

    const missing = await engram(['get', 'no-such-id', '--path', path], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no memory with id "no-such-id"/);
    const usage = await engram(['frobnicate'], { cwd });
    expect(usage.code).toBe(2);
  });
});
