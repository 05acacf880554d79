import type { SqlValue } from './postgres-sql.js';

/** Rows of one statement. */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Runs statements on one connection (or on a transaction). */
export interface Queryable {
  query<Row>(text: string, params?: readonly SqlValue[]): Promise<QueryResult<Row>>;
}

/**
 * What the store needs from Postgres: statements, and transactions on one connection. Two
 * implementations: a `pg` pool (a server) and a PGlite instance (Postgres in process, used for
 * the pgvector path in tests and for embedded use).
 */
export interface PostgresClient extends Queryable {
  /** 'pg' or 'pglite', for messages. */
  readonly driver: 'pg' | 'pglite';
  /**
   * Runs `work` in one READ COMMITTED transaction on one connection: committed when it resolves,
   * rolled back when it throws. Nothing else runs on that connection meanwhile.
   */
  transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T>;
  /** Releases what the store created (a pool it opened); never closes a caller's pool or PGlite. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------- pg

/** The parts of a `pg` query result the store reads. */
export interface PgResultLike {
  rows: unknown[];
  rowCount: number | null;
}

/** A `pg` query config with our own type parsers (see `typeParsers`). */
export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  types?: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (value: string) => unknown };
}

/** The parts of a `pg.PoolClient` the store uses, typed structurally so `pg` stays an optional peer. */
export interface PgPoolClientLike {
  query(config: PgQueryConfig): Promise<PgResultLike>;
  release(destroy?: boolean | Error): void;
}

/** The parts of a `pg.Pool` the store uses. */
export interface PgPoolLike {
  query(config: PgQueryConfig): Promise<PgResultLike>;
  connect(): Promise<PgPoolClientLike>;
  end(): Promise<void>;
}

const identity = (value: string) => value;

/**
 * Parsers for the only types the store reads back. Passed with every query so results do not
 * depend on global `pg.types` overrides an application may have installed (int8 as BigInt,
 * timestamps as strings…). Timestamps are always selected as epoch milliseconds (float8).
 */
const parsers: Record<number, (value: string) => unknown> = {
  16: (value) => value === 't', // bool
  20: (value) => Number(value), // int8
  21: (value) => Number(value), // int2
  23: (value) => Number(value), // int4
  700: (value) => Number(value), // float4
  701: (value) => Number(value), // float8
  114: (value) => JSON.parse(value), // json
  3802: (value) => JSON.parse(value), // jsonb
};

const typeParsers: NonNullable<PgQueryConfig['types']> = {
  getTypeParser: (oid) => parsers[oid] ?? identity,
};

class PgPoolClient implements PostgresClient {
  readonly driver = 'pg' as const;

  constructor(
    private readonly pool: PgPoolLike,
    private readonly owned: boolean,
  ) {}

  async query<Row>(text: string, params: readonly SqlValue[] = []): Promise<QueryResult<Row>> {
    const result = await this.pool.query({ text, values: [...params], types: typeParsers });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  }

  async transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T> {
    const connection = await this.pool.connect();
    const transaction: Queryable = {
      async query<Row>(text: string, params: readonly SqlValue[] = []) {
        const result = await connection.query({ text, values: [...params], types: typeParsers });
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
      },
    };
    let broken: Error | undefined;
    try {
      // Explicit: dedup under an advisory lock relies on each statement seeing the latest commits.
      await connection.query({ text: 'BEGIN ISOLATION LEVEL READ COMMITTED' });
      const result = await work(transaction);
      await connection.query({ text: 'COMMIT' });
      return result;
    } catch (error) {
      try {
        await connection.query({ text: 'ROLLBACK' });
      } catch (rollbackError) {
        // The connection is unusable (dropped, timed out): destroy it instead of pooling it.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      connection.release(broken ?? false);
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.pool.end();
  }
}

/** A client over a `pg` pool; `owned` pools are ended by `close()`. */
export function pgClient(pool: PgPoolLike, owned: boolean): PostgresClient {
  return new PgPoolClient(pool, owned);
}

// ---------------------------------------------------------------- PGlite

interface PGliteResultLike {
  rows: unknown[];
  affectedRows?: number;
}

interface PGliteQueryableLike {
  query(text: string, params?: unknown[]): Promise<PGliteResultLike>;
}

/**
 * The parts of a PGlite instance the store uses (`@electric-sql/pglite`), typed structurally.
 * Load the pgvector extension to get vectors: `new PGlite({ extensions: { vector } })`.
 */
export interface PGliteLike extends PGliteQueryableLike {
  transaction<T>(callback: (transaction: PGliteQueryableLike) => Promise<T>): Promise<T>;
}

class PGliteClient implements PostgresClient {
  readonly driver = 'pglite' as const;

  constructor(private readonly database: PGliteLike) {}

  async query<Row>(text: string, params: readonly SqlValue[] = []): Promise<QueryResult<Row>> {
    return wrap<Row>(await this.database.query(text, [...params]));
  }

  transaction<T>(work: (transaction: Queryable) => Promise<T>): Promise<T> {
    // PGlite is one connection: its transaction() holds it, so other calls wait instead of
    // interleaving with this transaction's statements.
    return this.database.transaction((transaction) =>
      work({
        async query<Row>(text: string, params: readonly SqlValue[] = []) {
          return wrap<Row>(await transaction.query(text, [...params]));
        },
      }),
    );
  }

  async close(): Promise<void> {}
}

function wrap<Row>(result: PGliteResultLike): QueryResult<Row> {
  // PGlite reports 0 affected rows for a SELECT; rows returned count as rows touched.
  return { rows: result.rows as Row[], rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
}

/** A client over a caller's PGlite instance (never closed by the store). */
export function pgliteClient(database: PGliteLike): PostgresClient {
  return new PGliteClient(database);
}
