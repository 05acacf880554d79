import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** Write transactions a connection commits before its checkpointer starts (a one-shot CLI write never starts one). */
export const checkpointerStartAfterWrites = 32;
/** How often the checkpointer looks while the log grows (ms); idle, it backs off to `checkpointIdleMs`. */
export const checkpointEveryMs = 10;
export const checkpointIdleMs = 1_000;
/**
 * The writer's own automatic checkpoint while the thread runs (pages; SQLite's default is 1,000).
 * It then only copies what the thread has not, and lets the log start over from its beginning
 * (which needs a moment with every page copied as a write begins: under a continuous stream of
 * writes there is none unless the writer makes it).
 */
export const writerCheckpointPages = 4_000;
const defaultCheckpointPages = 1_000;

/**
 * The thread's code: its own connection to the file, a passive checkpoint every `everyMs` while
 * the log grows, backing off to `idleMs` while nothing is written. Passive: it takes no lock a
 * reader or the writer waits on (only the checkpointer lock, which SQLite's own automatic
 * checkpoint then skips), copies what no reader still needs and syncs the file.
 */
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
db.pragma('synchronous = NORMAL');
let delay = workerData.everyMs;
let last = -1;
let timer;
const checkpoint = () => {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    const idle = row.busy === 0 && row.log === last && row.checkpointed === row.log;
    delay = idle ? Math.min(delay * 2, workerData.idleMs) : workerData.everyMs;
    last = row.log;
    if (workerData.report) parentPort.postMessage(row);
  } catch (error) {
    delay = workerData.idleMs;
    if (workerData.report) parentPort.postMessage({ error: String((error && error.message) || error) });
  }
  timer = setTimeout(checkpoint, delay);
};
timer = setTimeout(checkpoint, delay);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** What one checkpoint of the thread reported: SQLite's `wal_checkpoint` row, or the error it threw. */
export interface CheckpointReport {
  busy?: number;
  log?: number;
  checkpointed?: number;
  error?: string;
}

/**
 * Copies a file store's write-ahead log into the database file from a thread of its own.
 *
 * SQLite checkpoints inside the commit that brings the log to 1,000 pages: a single add writes
 * ~14 (8 KiB each), so one add in ~70 paid for copying 8 MB into the file — 12–25 ms on this
 * project's VMs, where each fresh page of the page cache costs ~13 µs (in-process single adds at
 * 10k memories: p99 14–19 ms against a median of 0.3; a REST add's p99 over 30 ms). Copied every
 * 10 ms by another connection in another thread, that work waits on no one; the writer's own
 * automatic checkpoint (raised to `writerCheckpointPages`) copies only the last few pages.
 * Started after a connection's first `checkpointerStartAfterWrites` write transactions (a process
 * that writes once never pays for a thread), unref'd (it never keeps a process alive), stopped
 * before the store closes its connection. Where the thread cannot start or dies (no driver to
 * load, a read-only or vanished file), SQLite's automatic checkpoint goes on as before.
 */
export class WalCheckpointer {
  private writes = 0;
  private worker: Worker | null = null;
  private failed = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly onReport?: (report: CheckpointReport) => void,
  ) {}

  /** After a committed write transaction: starts the thread once enough have been written. */
  noteWrite(): void {
    if (this.worker || this.failed) return;
    if (++this.writes < checkpointerStartAfterWrites) return;
    this.start();
  }

  private start(): void {
    // Never an error for the write that started it (it is committed): without a thread, SQLite checkpoints as before.
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(source, {
        eval: true,
        workerData: {
          driver,
          path: resolve(this.db.name),
          everyMs: checkpointEveryMs,
          idleMs: checkpointIdleMs,
          report: this.onReport !== undefined,
        },
      });
      worker.unref();
      worker.on('message', (report: CheckpointReport) => this.onReport?.(report));
      // A thread that cannot open the file (or dies) is not restarted: SQLite's own checkpoint takes over.
      worker.on('error', (error) => {
        this.failed = true;
        this.onReport?.({ error: error.message });
      });
      worker.on('exit', () => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.writerCheckpoints(defaultCheckpointPages);
      });
      this.worker = worker;
      this.writerCheckpoints(writerCheckpointPages);
    } catch (error) {
      this.failed = true;
      this.onReport?.({ error: error instanceof Error ? error.message : String(error) });
    }
  }

  private writerCheckpoints(pages: number): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${pages}`);
  }

  /** Stops the thread (its connection closed first), so the store closes the last connection itself. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    this.writerCheckpoints(defaultCheckpointPages);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), 1_000);
    await exited;
    clearTimeout(timer);
  }
}
