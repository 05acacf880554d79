import type BetterSqlite3 from 'better-sqlite3';
import { isBusyError } from './sqlite-retry.js';

/** Prepared statements kept per connection; beyond this many distinct SQL texts the oldest go. */
const statementCapacity = 256;

/** A writer waiting for another connection's write lock tries again this often (ms) for its first `finePollingMs`, then every ms. */
const finePollMs = 0.1;
const finePollingMs = 20;
/** Atomics.wait needs a shared cell to wait on; nothing ever wakes it, so each wait lasts its timeout. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * One open connection and what is cached on it. Shared by the store and its vector index.
 *
 * Runtime queries use better-sqlite3 prepared statements directly rather than Kysely: the driver
 * is synchronous, so a statement runs in microseconds without the promise hops of Kysely's async
 * executor, and a write transaction must be a synchronous function for
 * `db.transaction(fn).immediate()` (an async transaction on the one shared connection would let
 * other calls interleave inside it). Kysely owns the schema (see `sqlite-migrations.ts`).
 */
export class SqliteSession {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Called after each write transaction `write` commits (the store's checkpointer counts them). */
  afterWrite: (() => void) | null = null;

  constructor(
    readonly db: BetterSqlite3.Database,
    /** Where the data lives, for messages. */
    readonly location: string,
  ) {}

  /** A cached prepared statement for this SQL text. */
  statement(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size >= statementCapacity) {
        const oldest = this.statements.keys().next().value;
        if (oldest !== undefined) this.statements.delete(oldest);
      }
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `work`, a synchronous function of reads, in one read transaction (BEGIN DEFERRED), or
   * inside the transaction already open. Every statement SQLite runs outside a transaction is a
   * transaction of its own, and each takes and drops the file's shared locks (two `fcntl` calls
   * and an `fstat`: ~6 µs against ~0.4 µs for the statement itself inside one); a search runs ~9
   * of them. One transaction also makes the reads one consistent snapshot. `work` must not write.
   * (Not `db.transaction(work).deferred()`: that builds a wrapper function on every call, on the
   * per-search path, and nests as a savepoint where running inside the open transaction is enough.)
   */
  read<T>(work: () => T): T {
    if (this.db.inTransaction) return work();
    this.statement('BEGIN').run();
    let result: T;
    try {
      result = work();
    } catch (error) {
      if (this.db.inTransaction) this.statement('ROLLBACK').run();
      throw error;
    }
    this.statement('COMMIT').run();
    return result;
  }

  /**
   * Runs `work` in a write transaction that takes the write lock up front (BEGIN IMMEDIATE).
   * A deferred transaction would read first and upgrade later; two processes doing that at once
   * deadlock on the upgrade and one gets SQLITE_BUSY no matter the busy timeout. With IMMEDIATE
   * the second writer waits for the first to commit.
   *
   * The wait is ours, not SQLite's: SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms
   * between tries, so a lock released 20 ms into the wait was taken at 33 ms, and the whole
   * process (every request of a server worker) slept the difference. Here the transaction is tried
   * with busy_timeout 0 and, while another connection holds the lock, tried again every 0.1 ms for
   * 20 ms, then every ms, until the connection's busy timeout has passed; then SQLITE_BUSY is
   * thrown as before. A connection set to busy_timeout 0 (never wait) gets SQLite's answer at once.
   */
  write<T>(work: () => T): T {
    const result = this.writeTransaction(work);
    this.afterWrite?.();
    return result;
  }

  private writeTransaction<T>(work: () => T): T {
    const timeoutMs = this.statement('PRAGMA busy_timeout').pluck().get() as number;
    if (timeoutMs === 0) return this.db.transaction(work).immediate();
    this.statement('PRAGMA busy_timeout = 0').get();
    try {
      const start = performance.now();
      for (;;) {
        try {
          return this.db.transaction(work).immediate();
        } catch (error) {
          // A busy error rolled back whatever `work` had done, so it can run again from the start.
          if (!isBusyError(error) || this.db.inTransaction) throw error;
          const waited = performance.now() - start;
          if (waited >= timeoutMs) throw error;
          Atomics.wait(pause, 0, 0, waited < finePollingMs ? finePollMs : 1);
        }
      }
    } finally {
      this.statement(`PRAGMA busy_timeout = ${timeoutMs}`).get();
    }
  }
}
