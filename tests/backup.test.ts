// engram backup under concurrent writers, and restore (needs the built packages: npm run build).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreSqliteBackup, sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, inMemoryStore, Memory, ValidationError } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/engram/src/cli/program.js';

const directories: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const temporaryDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), 'engram-backup-'));
  directories.push(directory);
  return directory;
};
const writerScript = join(import.meta.dirname, 'support', 'writer.child.mjs');
const open = (path: string) => new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 32 }), logger: false });

/** Starts a writer process; resolves once it has the store open. `acknowledged` grows as it writes. */
function startWriter(path: string, worker: number): Promise<{ child: ChildProcess; acknowledged: () => number }> {
  const child = spawn(process.execPath, [writerScript, path, String(worker)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let acknowledged = 0;
  let buffer = '';
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') resolve({ child, acknowledged: () => acknowledged });
        else acknowledged = Number(line) + 1;
      }
    });
  });
}

const integrity = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
};

describe('backup and restore (SQLite)', () => {
  it('backs up a store while two processes keep writing; the copy opens, is intact and consistent', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const seed = open(path);
    await seed.addMany(Array.from({ length: 3_000 }, (_, index) => ({ content: `seed memory ${index} with some words to fill pages` })));
    await seed.close();
    const writers = await Promise.all([startWriter(path, 1), startWriter(path, 2)]);
    // Let them write for a moment so the backup really runs against moving data.
    while (writers.some((writer) => writer.acknowledged() < 20)) await new Promise((resolve) => setTimeout(resolve, 20));

    const memory = open(path);
    const steps: number[] = [];
    const destination = join(directory, 'backup.db');
    const result = await memory.backup(destination, { onProgress: ({ copiedPages }) => steps.push(copiedPages) });
    // Stop the writers, then read every acknowledgement they had already written into the pipe
    // (on a loaded machine some are still unread when the backup returns).
    await Promise.all(
      writers.map(({ child }) => {
        const closed = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGKILL');
        return closed;
      }),
    );
    const acknowledgedAfter = writers.map((writer) => writer.acknowledged());
    await memory.close();

    expect(result.destination).toBe(destination);
    expect(result.bytes).toBeGreaterThan(0);
    expect(steps.length).toBeGreaterThan(0);
    expect(existsSync(`${destination}.${process.pid}.partial`)).toBe(false);
    expect(integrity(destination)).toBe('ok');
    const copy = open(destination);
    const count = await copy.count();
    // Every seed memory, and no more than the writers had acknowledged when they were stopped
    // (plus one write each that may have committed without its acknowledgement being written).
    expect(count).toBeGreaterThanOrEqual(3_000);
    expect(count).toBeLessThanOrEqual(3_000 + (acknowledgedAfter[0] as number) + (acknowledgedAfter[1] as number) + 2);
    expect((await copy.search('words fill pages', { mode: 'lexical', limit: 1 }))[0]?.memory.content).toMatch(
      /^seed memory \d+ with some words to fill pages$/,
    );
    await copy.close();
  });

  it('refuses to overwrite, restores with --force, and rejects files that are not Engram stores', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const memory = open(path);
    const { memory: kept } = await memory.add({ content: 'before the backup' });
    const backupFile = join(directory, 'backup.db');
    await memory.backup(backupFile);
    expect(ValidationError.isInstance(await memory.backup(backupFile).catch((error: unknown) => error))).toBe(true);
    expect(((await memory.backup(path).catch((error: unknown) => error)) as ValidationError).field).toBe('destination');
    await memory.add({ content: 'after the backup' });
    await memory.close();

    const run = async (args: string[]) => {
      const stream = () => {
        const captured = {
          text: '',
          write(chunk: string) {
            captured.text += chunk;
            return true;
          },
        };
        return captured;
      };
      const stdout = stream();
      const stderr = stream();
      const code = await runCli(args, { stdout, stderr, env: { ENGRAM_EMBEDDER: 'hash' } });
      return { code, stdout: stdout.text, stderr: stderr.text };
    };
    const refused = await run(['restore', backupFile, '--path', path]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--force');
    const restored = await run(['restore', backupFile, '--path', path, '--force']);
    expect(restored.code, restored.stderr).toBe(0);
    const reopened = open(path);
    expect((await reopened.list()).items.map((record) => record.id)).toEqual([kept.id]);
    await reopened.close();

    const viaCli = await run(['backup', join(directory, 'second.db'), '--path', path, '--json']);
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(JSON.parse(viaCli.stdout).pages).toBeGreaterThan(0);

    const notSqlite = join(directory, 'not-a-store.db');
    writeFileSync(notSqlite, 'hello');
    expect(ValidationError.isInstance(await restoreSqliteBackup(notSqlite, join(directory, 'x.db')).catch((error: unknown) => error))).toBe(
      true,
    );
    const otherDatabase = join(directory, 'other.db');
    new Database(otherDatabase).exec('CREATE TABLE t (x)');
    const error = await restoreSqliteBackup(otherDatabase, join(directory, 'y.db')).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain('not an Engram store');
  });

  it('writes a compact copy of a store with many deleted rows, which restores intact', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const wide = () => new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
    const memory = wide();
    const added = await memory.addMany(
      Array.from({ length: 3_000 }, (_, index) => ({ content: `compact backup note ${index} ${'with filler words '.repeat(12)}` })),
    );
    await memory.close();
    // 2,500 rows removed as a purge does when its VACUUM finds the database busy (another
    // connection writing): their pages stay in the file as free pages.
    const raw = new Database(path);
    raw.transaction(() => {
      raw.exec('DELETE FROM memory_tags WHERE memory_rowid <= 2500');
      raw.exec('DELETE FROM memory_history WHERE memory_id IN (SELECT id FROM memories WHERE rowid <= 2500)');
      raw.exec('DELETE FROM memories WHERE rowid <= 2500');
    })();
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const source = new Database(path, { readonly: true });
    const pageSize = source.pragma('page_size', { simple: true }) as number;
    const sourcePages = source.pragma('page_count', { simple: true }) as number;
    const freePages = source.pragma('freelist_count', { simple: true }) as number;
    source.close();
    expect(freePages).toBeGreaterThan(sourcePages / 5);

    const backupFile = join(directory, 'compact.db');
    const live = wide();
    const result = await live.backup(backupFile);
    await live.close();
    for (const suffix of ['-wal', '-shm', '-journal', `.${process.pid}.partial`])
      expect(existsSync(`${backupFile}${suffix}`), suffix).toBe(false);
    // No free pages copied: the backup is the live data's size.
    expect(result.bytes).toBeLessThanOrEqual((sourcePages - freePages) * pageSize);
    expect(result.pages * pageSize).toBe(result.bytes);
    const copy = new Database(backupFile, { readonly: true });
    expect(copy.pragma('freelist_count', { simple: true })).toBe(0);
    copy.close();
    expect(integrity(backupFile)).toBe('ok');

    const restoredPath = join(directory, 'restored.db');
    await restoreSqliteBackup(backupFile, restoredPath);
    const restored = new Memory({ store: sqliteStore({ path: restoredPath }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
    expect(await restored.count()).toBe(500);
    const kept = added[2_900]?.memory;
    expect((await restored.search('compact backup note 2900', { mode: 'vector', limit: 1 }))[0]?.memory.id).toBe(kept?.id);
    expect((await restored.search('compact backup note 2900', { mode: 'lexical', limit: 1 }))[0]?.memory.id).toBe(kept?.id);
    expect(await restored.get(added[0]?.memory.id as string)).toBeNull();
    await restored.close();
  }, 120_000);

  it('names pg_dump for stores without a file backup', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    expect(((await memory.backup('x.db').catch((error: unknown) => error)) as Error).message).toMatch(/engram export/);
    await memory.close();
  });
});
