import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackupOptions, BackupResult } from '@engram/core';
import { AdapterError, ValidationError } from '@engram/core';
import type BetterSqlite3 from 'better-sqlite3';

/** Pages per backup step at first: small steps keep writers waiting for at most a few milliseconds. */
const INITIAL_PAGES_PER_STEP = 1024;
/** "Every remaining page": one step under one read transaction, which nothing can restart. */
const ALL_PAGES = 0x7fffffff;

// Runs in a worker thread: VACUUM of a file nothing else has open, on a connection of its own.
const vacuumWorker = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
try {
  db.exec('VACUUM');
  parentPort.postMessage(db.pragma('page_count', { simple: true }));
} finally {
  db.close();
}
`;

/**
 * Compacts the copy `file` (its free pages: rows deleted or purged in the store leave them) with
 * VACUUM in a worker thread, so the event loop of a process backing up its own store stays free
 * (at 1M memories the rewrite takes seconds). Answers the copy's page count afterwards.
 */
function vacuumCopy(file: string): Promise<number> {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolvePages, reject) => {
    const worker = new Worker(vacuumWorker, { eval: true, workerData: { module, file } });
    let pages: number | undefined;
    worker.once('message', (message: number) => {
      pages = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (pages !== undefined) resolvePages(pages);
      else reject(new Error(`compacting the copy stopped (worker exit code ${code})`));
    });
  });
}

/**
 * Copies a live database with SQLite's online backup API (`sqlite3_backup_step`) into
 * `destination`, written beside it under a temporary name and renamed when complete (a crash
 * never leaves a half backup under the final name). Writers keep running: a write from another
 * connection restarts the copy at its next step, so after a restart the rest is copied in one
 * step (one read transaction: a consistent snapshot, writers are not blocked in WAL mode).
 * The backup API copies pages as they are, free ones included: a copy with free pages is then
 * compacted (`vacuumCopy`), so a store that deleted or purged much backs up to its live size.
 * The copy is checked with `PRAGMA quick_check` before it is renamed.
 */
export async function backupDatabase(db: BetterSqlite3.Database, destination: string, options: BackupOptions = {}): Promise<BackupResult> {
  const target = resolve(destination);
  if (db.memory) throw new ValidationError([{ field: 'destination', message: 'an in-memory SQLite database has no file to back up' }]);
  if (target === resolve(db.name) || target.startsWith(`${resolve(db.name)}-`)) {
    throw new ValidationError([
      { field: 'destination', message: `is the store itself (${db.name}) or one of its files: choose another path` },
    ]);
  }
  if (existsSync(target) && !options.overwrite) {
    throw new ValidationError([
      { field: 'destination', message: `${destination} exists: choose a new file name, or pass overwrite: true (--force)` },
    ]);
  }
  const temporary = `${target}.${process.pid}.partial`;
  rmSync(temporary, { force: true });
  let lastRemaining = Number.POSITIVE_INFINITY;
  let restarts = 0;
  let rate = INITIAL_PAGES_PER_STEP;
  try {
    const { totalPages } = await db.backup(temporary, {
      progress: ({ totalPages, remainingPages }) => {
        if (remainingPages > lastRemaining) {
          // Another connection wrote: the copy restarted. Finish in one step from now on.
          restarts += 1;
          rate = ALL_PAGES;
        }
        lastRemaining = remainingPages;
        options.onProgress?.({ copiedPages: totalPages - remainingPages, totalPages });
        return rate;
      },
    });
    const { default: Database } = (await import('better-sqlite3')) as { default: typeof BetterSqlite3 };
    const copy = new Database(temporary, { readonly: true });
    let freePages: number;
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`);
      freePages = copy.pragma('freelist_count', { simple: true }) as number;
    } finally {
      copy.close();
    }
    const pages = freePages > 0 ? await vacuumCopy(temporary) : totalPages;
    // VACUUM leaves a journal mode of its own: nothing else beside the copy to keep.
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${temporary}${suffix}`, { force: true });
    renameSync(temporary, target);
    options.onProgress?.({ copiedPages: totalPages, totalPages });
    return { destination: target, pages, bytes: statSync(target).size, restarts };
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${temporary}${suffix}`, { force: true });
    if (ValidationError.isInstance(error)) throw error;
    throw new AdapterError('sqlite', 'backup', error, 'Check that the destination folder exists and is writable');
  }
}

export interface RestoreOptions {
  /** Replace an existing store at the target path. Default false. */
  overwrite?: boolean;
  onProgress?: BackupOptions['onProgress'];
}

/**
 * Restores an `engram backup` file to `targetPath`: checks it is an intact Engram SQLite store,
 * copies it with the backup API to a temporary file beside the target, removes the target's
 * WAL, shared-memory and index snapshot files, and renames the copy into place. Every process
 * using the target store must be stopped first (their open files would still be the old store).
 */
export async function restoreSqliteBackup(backupFile: string, targetPath: string, options: RestoreOptions = {}): Promise<BackupResult> {
  const source = resolve(backupFile);
  const target = resolve(targetPath);
  if (!existsSync(source)) throw new ValidationError([{ field: 'backup', message: `${backupFile} does not exist` }]);
  if (source === target) throw new ValidationError([{ field: 'target', message: 'is the backup file itself: restore to the store path' }]);
  if (existsSync(target) && !options.overwrite) {
    throw new ValidationError([
      {
        field: 'target',
        message: `a store already exists at ${targetPath}: stop every process using it, then pass overwrite: true (--force) to replace it`,
      },
    ]);
  }
  const { default: Database } = (await import('better-sqlite3')) as { default: typeof BetterSqlite3 };
  let db: BetterSqlite3.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ValidationError([{ field: 'backup', message: `${backupFile} is not a SQLite database (${(error as Error).message})` }]);
  }
  try {
    let schema: string | undefined;
    try {
      schema = db.prepare("SELECT value FROM engram_meta WHERE key = 'schema'").pluck().get() as string | undefined;
    } catch {
      schema = undefined;
    }
    if (!schema?.includes('engram-sqlite')) {
      throw new ValidationError([{ field: 'backup', message: `${backupFile} is a SQLite database but not an Engram store` }]);
    }
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new ValidationError([{ field: 'backup', message: `${backupFile} is damaged: ${String(check)}` }]);
    const temporary = `${target}.${process.pid}.restoring`;
    rmSync(temporary, { force: true });
    try {
      const { totalPages } = await db.backup(temporary, {
        progress: ({ totalPages, remainingPages }) => {
          options.onProgress?.({ copiedPages: totalPages - remainingPages, totalPages });
          return INITIAL_PAGES_PER_STEP;
        },
      });
      for (const suffix of ['-wal', '-shm', '-journal', '-lexical.snapshot', '-vectors.snapshot'])
        rmSync(`${target}${suffix}`, { force: true });
      renameSync(temporary, target);
      return { destination: target, pages: totalPages, bytes: statSync(target).size, restarts: 0 };
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new AdapterError('sqlite', 'restore', error);
    }
  } finally {
    db.close();
  }
}
