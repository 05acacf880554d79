import type BetterSqlite3 from 'better-sqlite3';

/** Prepared statements kept per connection; beyond this many distinct SQL texts the oldest go. */
const statementCapacity = 256;

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
   * Runs `work` in a write transaction that takes the write lock up front (BEGIN IMMEDIATE).
   * A deferred transaction would read first and upgrade later; two processes doing that at once
   * deadlock on the upgrade and one gets SQLITE_BUSY no matter the busy timeout. With IMMEDIATE
   * the second writer simply waits (busy_timeout) for the first to commit.
   */
  write<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }
}
