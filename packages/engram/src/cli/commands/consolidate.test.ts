import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonlArchive } from '@engram/adapters/archive';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../program.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const NOW = '2026-01-01T00:00:00.000Z';
const DAY = 86_400_000;

/** The CLI on a real SQLite file, archiving to a JSONL file beside it. */
function setup() {
  const directory = mkdtempSync(join(tmpdir(), 'engram-consolidate-cli-'));
  directories.push(directory);
  const archivePath = join(directory, 'memory.archive.jsonl');
  const createMemory = (path: string) =>
    new Memory({
      store: sqliteStore({ path }),
      embedder: hashEmbedder(),
      logger: false,
      consolidation: { archive: jsonlArchive({ path: archivePath }) },
    });
  const run = async (args: string[], stderrTty = false) => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: {
        write: (chunk: string) => {
          stdout += chunk;
          return true;
        },
      },
      stderr: {
        write: (chunk: string) => {
          stderr += chunk;
          return true;
        },
        ...(stderrTty ? { isTTY: true, columns: 80 } : {}),
      },
      env: {},
      createMemory,
    };
    const code = await runCli([...args, '--path', join(directory, 'memory.db')], io);
    return { code, stdout, stderr };
  };
  return { directory, archivePath, run, createMemory, path: join(directory, 'memory.db') };
}

async function seed(memory: Memory) {
  const old = (days: number) => new Date(Date.parse(NOW) - days * DAY);
  const faded = await memory.add({ content: 'Opened the settings page once', importance: 0.1, createdAt: old(300) });
  const kept = await memory.add({ content: 'The office wifi is Engram-5G', importance: 0.1, tags: ['keep'], createdAt: old(300) });
  for (const job of ['lint', 'test', 'build']) {
    await memory.add({
      content: `CI failed: ETIMEDOUT fetching the registry in job ${job}`,
      type: 'failure',
      tags: ['ci'],
      createdAt: old(3),
    });
  }
  return { faded: faded.memory, kept: kept.memory };
}

describe('engram consolidate', () => {
  it('dry run by default: shows the table, writes nothing', async () => {
    const cli = setup();
    const memory = cli.createMemory(cli.path);
    const { faded } = await seed(memory);
    await memory.close();
    const bytes = statSync(cli.path).size;

    const result = await cli.run(['consolidate', '--now', NOW]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('dry run (nothing written; --apply to apply): 5 memories scanned');
    expect(result.stdout).toMatch(/forgetting\s+1 would be forgotten \(protected: 0 linked, 0 important, 0 keyed, 1 keep-tag\)/);
    expect(result.stdout).toMatch(/compression\s+1 clusters of 3 memories would become patterns/);
    expect(result.stdout).toContain(faded.id);
    expect(statSync(cli.path).size).toBe(bytes);
    expect(statSync(cli.archivePath, { throwIfNoEntry: false })).toBeUndefined();
  });

  it('--apply archives and forgets; engram import restores from the archive', async () => {
    const cli = setup();
    const memory = cli.createMemory(cli.path);
    const { faded, kept } = await seed(memory);
    await memory.close();

    const result = await cli.run(['consolidate', '--apply', '--now', NOW, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.dryRun).toBe(false);
    expect(report.forgetting.forgotten.map((entry: { id: string }) => entry.id)).toEqual([faded.id]);
    expect(report.forgetting.archive).toBe(cli.archivePath);
    expect(report.compression.clusters[0].patternId).toEqual(expect.any(String));
    const archived = readFileSync(cli.archivePath, 'utf8').trim().split('\n');
    expect(archived.map((line) => JSON.parse(line).content)).toEqual(['Opened the settings page once']);

    const check = cli.createMemory(cli.path);
    expect(await check.get(faded.id)).toBeNull();
    expect(await check.get(kept.id)).not.toBeNull();
    await check.close();

    const restored = await cli.run(['import', cli.archivePath, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ created: 1, failed: 0 });
    const after = cli.createMemory(cli.path);
    const found = (await after.list({ limit: 50 })).items.find((record) => record.content === 'Opened the settings page once');
    expect(found).toMatchObject({ importance: 0.1, createdAt: faded.createdAt, type: 'observation' });
    await after.close();
  });

  it('draws a progress bar on a terminal and rejects an unknown step', async () => {
    const cli = setup();
    const memory = cli.createMemory(cli.path);
    await seed(memory);
    await memory.close();
    const result = await cli.run(['consolidate', '--steps', 'relevance', '--now', NOW], true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('scan         [########################] 5/5');
    expect(result.stdout).toMatch(/relevance\s+5 scored/);
    const bad = await cli.run(['consolidate', '--steps', 'decay']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--steps: unknown step "decay" (choose from relevance, forgetting, compression, associations)');
  });
});
