import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory, type MemoryStore } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

/**
 * Two processes erasing on one store at the same instant (two servers behind a load balancer
 * taking replicas' erasures, or the CLI and the MCP server on one file): every erasure keeps its
 * own entry in the store's erasure log. The log's numbers are taken in the append's own
 * transaction; before, the head was read and then written apart and one entry could overwrite
 * another. Needs `npm run build` (the children run the built packages).
 */
const child = new URL('./support/eraser.child.mjs', import.meta.url).pathname;
const PER_PROCESS = 150;
const directory = mkdtempSync(join(tmpdir(), 'engram-erasure-processes-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function lineReader(process: ChildProcess) {
  const lines = createInterface({ input: process.stdout as NodeJS.ReadableStream });
  const waiting: Array<{ line: string; resolve: () => void }> = [];
  const seen: string[] = [];
  let stderr = '';
  process.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  lines.on('line', (line) => {
    seen.push(line);
    for (const wait of waiting.filter((item) => item.line === line)) wait.resolve();
  });
  return {
    until: (line: string) =>
      new Promise<void>((resolve, reject) => {
        if (seen.includes(line)) return resolve();
        waiting.push({ line, resolve });
        process.once('exit', (code) => {
          if (!seen.includes(line)) reject(new Error(`the eraser exited with ${code} before "${line}": ${stderr}`));
        });
      }),
  };
}

async function eraseConcurrently(kind: 'sqlite' | 'postgres', location: string): Promise<void> {
  const children = ['a', 'b'].map((worker) =>
    spawn(process.execPath, [child, kind, location, worker, String(PER_PROCESS)], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const readers = children.map(lineReader);
  await Promise.all(readers.map((reader) => reader.until('ready')));
  for (const process of children) process.stdin?.write('go\n');
  await Promise.all(readers.map((reader) => reader.until('done')));
}

/** Every erased id the store serves to a replica pulling from erasure cursor 0 (the sync protocol), in order. */
async function servedErasures(store: MemoryStore): Promise<string[]> {
  const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 32 }), logger: false });
  const ids: string[] = [];
  let cursor = 0;
  for (;;) {
    const { erased } = await memory.sync.changes({ since: 0, erasedSince: cursor });
    ids.push(...(erased?.ids ?? []));
    if (!erased?.more) break;
    cursor = erased.cursor;
  }
  await memory.close();
  return ids;
}

function expectEveryErasureOnce(ids: string[]): void {
  const expected = ['a', 'b'].flatMap((worker) => Array.from({ length: PER_PROCESS }, (_, index) => `${worker}-${index + 1}`));
  expect(ids.length).toBe(expected.length);
  expect([...ids].sort()).toEqual(expected.sort());
}

describe('two processes erasing on one store at once', () => {
  it('SQLite file: every erasure keeps its own entry and reaches replicas', async () => {
    const path = join(directory, 'shared.db');
    await eraseConcurrently('sqlite', path);
    expectEveryErasureOnce(await servedErasures(sqliteStore({ path })));
  }, 120_000);

  const postgres = usePostgres();
  (postgres.skip ? it.skip : it)(
    `Postgres database: every erasure keeps its own entry and reaches replicas${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`,
    async () => {
      // The schema is created before the race (two first opens would both run the migrations).
      const store = postgresStore({ connectionString: postgres.url });
      await store.open();
      await store.close();
      await eraseConcurrently('postgres', postgres.url);
      expectEveryErasureOnce(await servedErasures(postgresStore({ connectionString: postgres.url })));
    },
    120_000,
  );
});
