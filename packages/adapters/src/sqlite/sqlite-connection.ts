import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * No memory-mapped reads: pages are read into SQLite's page cache instead. In WAL mode a
 * connection drops its whole mapping whenever another connection has committed since its last
 * transaction (`pagerBeginReadTransaction` → `sqlite3OsUnfetch`), so with two processes writing
 * (`engram-server --workers 2`, agents sharing a file) every transaction faulted its pages in
 * again: two REST workers adding at 16 connections took 1.40–1.65 ms of server CPU a request with
 * a 256 MB mapping and 0.88–0.93 ms without, 998–1,159 against 1,638–1,691 req/s, p99 34–43 against
 * 23–26 ms (3 alternating pairs). Alone a process lost nothing measurable without it: searches at
 * 10k and 1M memories (scoped or not), exact vector search at 10k and a 200k bulk load, each
 * alternated in one process or in pairs of processes (bench/README.md, REST, tenth pass). It was
 * set for sqlite-vec's scans, which only raw-vector collections still run: their 10k × 384-d
 * top 10 took 8.5–8.6 ms without it and 8.5–10.5 ms with it (`--suite collections`, alternated).
 */
const mmapSizeBytes = 0;

/** The page size of a database file this adapter creates (see `openConnection`). */
const newFilePageBytes = 8192;

export interface ConnectionOptions {
  path?: string;
  database?: BetterSqlite3.Database;
  busyTimeoutMs: number;
}

export interface Connection {
  db: BetterSqlite3.Database;
  /** True when the store opened the database (and so closes it). */
  owned: boolean;
}

/**
 * Opens (or adopts) the database and prepares the connection: WAL so readers never block the
 * writer, `busy_timeout` so writers queue instead of failing, `synchronous=NORMAL` (durable
 * at each checkpoint, safe with WAL), temporary data in memory, foreign keys, no memory-mapped reads, and the sqlite-vec extension.
 * The native modules are loaded here, not at import time, so importing the adapter costs nothing
 * and a missing optional dependency gets an actionable message.
 */
export async function openConnection(options: ConnectionOptions): Promise<Connection> {
  const sqliteVec = await optional('sqlite-vec', () => import('sqlite-vec'));
  let db: BetterSqlite3.Database;
  let owned = false;
  if (options.database) {
    db = options.database;
  } else {
    const { default: Database } = await optional('better-sqlite3', () => import('better-sqlite3'));
    const path = options.path as string;
    if (!isMemoryPath(path)) mkdirSync(dirname(resolve(path)), { recursive: true });
    db = new Database(path, { timeout: options.busyTimeoutMs });
    owned = true;
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    // A new file gets 8 KiB pages before anything is written (an existing file keeps its own): a
    // 384-d float vector row (~1.55 KB) fills a 4 KiB page only twice, 8 KiB five times — 0.4 KB
    // a memory less on disk at 384 dimensions.
    if (!db.memory && db.pragma('page_count', { simple: true }) === 0) db.pragma(`page_size = ${newFilePageBytes}`);
    if (!db.memory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Statement journals in memory: every INSERT into `memories` inside a batch's transaction
    // (its triggers write other tables) keeps one, and past 64 KiB SQLite spilled it to a temporary
    // file — 105 KB of file writes a memory in a bulk load at 1M, three times the write-ahead log's.
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = ON');
    db.pragma(`mmap_size = ${mmapSizeBytes}`);
    sqliteVec.load(db);
  } catch (error) {
    if (owned) db.close();
    throw error;
  }
  return { db, owned };
}

export function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

async function optional<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`The SQLite store needs the "${name}" package: run \`npm install better-sqlite3 kysely sqlite-vec\``, {
        cause: error,
      });
    }
    throw error;
  }
}
