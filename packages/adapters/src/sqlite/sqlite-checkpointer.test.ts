import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { MemoryStore } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type CheckpointReport, checkpointerStartAfterWrites, writerCheckpointPages } from './sqlite-checkpointer.js';
import { sqliteStore } from './sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-checkpointer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let copies = 0;

/** Rows of `memories` in the database file alone (a copy without the write-ahead log beside it); -1 for a torn copy. */
function rowsInFile(path: string): number {
  const copy = join(root, `copy-${copies++}.db`);
  copyFileSync(path, copy);
  try {
    const file = new Database(copy, { readonly: true });
    try {
      return file.prepare('SELECT count(*) FROM memories').pluck().get() as number;
    } finally {
      file.close();
    }
  } catch {
    return -1;
  }
}

async function writeOneByOne(store: MemoryStore, count: number, prefix: string): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.write([{ record: makeRecord({ content: `${prefix} memory number ${index}` }) }]);
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the SQLite write-ahead log checkpointer thread', () => {
  it('starts after the first writes and copies the log into the file while the writer goes on', async () => {
    const path = join(root, 'copies.db');
    const reports: CheckpointReport[] = [];
    // `onCheckpoint` is not a public option: tests pass it through the options object.
    const options = { path, onCheckpoint: (report: CheckpointReport) => reports.push(report) };
    const store = sqliteStore(options);
    await store.open();
    // Fewer writes than start it: nothing copied (SQLite's own checkpoint waits for 1,000 pages).
    await writeOneByOne(store, checkpointerStartAfterWrites - 1, 'early');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reports).toEqual([]);
    // (-1: the file alone does not even hold the schema yet.)
    expect(rowsInFile(path)).toBeLessThanOrEqual(0);

    await writeOneByOne(store, 9, 'later');
    // The writer's own checkpoint now waits for more pages; the thread copies every row meanwhile.
    const session = (store as unknown as { session: { db: Database.Database } }).session;
    expect(session.db.pragma('wal_autocheckpoint', { simple: true })).toBe(writerCheckpointPages);
    await until(() => rowsInFile(path) === checkpointerStartAfterWrites + 8, 'the file holds every row');
    // The thread reports after its checkpoint, by message: the report may come after the file is whole.
    await until(
      () => reports.some((report) => report.log !== undefined && report.log > 0 && report.checkpointed === report.log),
      'a checkpoint of the whole log is reported',
    );
    expect(reports.filter((report) => report.error !== undefined)).toEqual([]);

    // Closing stops the thread first and restores SQLite's default for the connection.
    await store.close();
    expect(session.db.open).toBe(false);
  });

  it('leaves a database it was handed as it found it, and an in-memory one never starts a thread', async () => {
    const path = join(root, 'handed.db');
    const database = new Database(path);
    const store = sqliteStore({ database });
    await store.open();
    await writeOneByOne(store, checkpointerStartAfterWrites + 1, 'handed');
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(writerCheckpointPages);
    await store.close();
    expect(database.open).toBe(true);
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    database.close();

    const memory = sqliteStore({ path: ':memory:' });
    await memory.open();
    await writeOneByOne(memory, checkpointerStartAfterWrites + 1, 'in memory');
    const session = (memory as unknown as { session: { db: Database.Database } }).session;
    expect(session.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await memory.close();
  });

  it('never keeps a process alive: one that writes and never closes exits', async () => {
    const bundle = pathToFileURL(fileURLToPath(new URL('../../dist/sqlite/index.js', import.meta.url))).href;
    const core = pathToFileURL(fileURLToPath(new URL('../../../core/dist/testing/index.js', import.meta.url))).href;
    const path = join(root, 'unclosed.db');
    const script = `
      const { sqliteStore } = await import(${JSON.stringify(bundle)});
      const { makeRecord } = await import(${JSON.stringify(core)});
      const store = sqliteStore({ path: ${JSON.stringify(path)} });
      for (let index = 0; index < ${checkpointerStartAfterWrites * 2}; index++)
        await store.write([{ record: makeRecord({ content: 'unclosed memory ' + index }) }]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log('written');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe('written');
    const file = new Database(path, { readonly: true });
    expect(file.prepare('SELECT count(*) FROM memories').pluck().get()).toBe(checkpointerStartAfterWrites * 2);
    file.close();
  });
});
