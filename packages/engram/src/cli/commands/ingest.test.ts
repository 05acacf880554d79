import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../program.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function setup() {
  const directory = mkdtempSync(join(tmpdir(), 'engram-ingest-cli-'));
  directories.push(directory);
  const path = join(directory, 'memory.db');
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
      createMemory: (storePath: string) => new Memory({ store: sqliteStore({ path: storePath }), embedder: hashEmbedder(), logger: false }),
    };
    const code = await runCli([...args, '--path', path], io);
    return { code, stdout, stderr };
  };
  return { directory, run };
}

describe('engram ingest', () => {
  it('ingests a folder, reports bad files and exits 1, then finds nothing to do', async () => {
    const { directory, run } = setup();
    const docs = join(directory, 'docs');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(docs);
    writeFileSync(join(docs, 'install.md'), '# Install\n\n## Windows\n\nRun the installer.\n\n## Linux\n\nUse apt.\n');
    writeFileSync(join(docs, 'logo.txt'), Buffer.from([0, 1, 2, 3]));
    const first = await run(['ingest', docs, '--tags', 'handbook'], true);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/ingesting \[#+\] 2\/2 files, 2 chunks/);
    expect(first.stderr).toMatch(/error: .*logo\.txt: binary file \(it contains NUL bytes\): not text/);
    expect(first.stdout).toMatch(/^ingested 2 files \(.*\) in [\d.]+ s, .*\/s: 1 new, 0 changed, 0 unchanged, 1 failed$/m);
    expect(first.stdout).toContain('chunks: 2 created, 0 updated, 0 unchanged, 0 deleted');

    const search = await run(['search', 'install windows', '--json']);
    expect(JSON.parse(search.stdout).hits[0].memory).toMatchObject({ content: 'Run the installer.', tags: ['handbook'] });

    const again = await run(['ingest', join(docs, 'install.md'), '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ failed: 0, chunks: { created: 0, unchanged: 2 } });
  });
});
