import type { CompiledQuery, DatabaseConnection, Dialect, Driver, Kysely, QueryResult } from 'kysely';
import type { Queryable } from './postgres-client.js';
import type { SqlValue } from './postgres-sql.js';

type KyselyModule = typeof import('kysely');

/**
 * A Kysely dialect over one open transaction of the store's client, so Kysely's `Migrator`
 * runs on the connection that holds the migration lock, for `pg` and PGlite alike. Kysely never
 * begins, commits or closes anything here: the surrounding `client.transaction` does.
 */
export function transactionDialect(kysely: KyselyModule, transaction: Queryable): Dialect {
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const result = await transaction.query<R>(query.sql, query.parameters as SqlValue[]);
      return { rows: result.rows, numAffectedRows: BigInt(result.rowCount) };
    },
    // biome-ignore lint/correctness/useYield: Kysely's interface; the migrator never streams.
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error('streaming is not supported on the migration connection');
    },
  };
  const refuse = async () => {
    throw new Error('the migration connection is already inside a transaction');
  };
  const driver: Driver = {
    async init() {},
    async acquireConnection() {
      return connection;
    },
    beginTransaction: refuse,
    commitTransaction: refuse,
    rollbackTransaction: refuse,
    async releaseConnection() {},
    async destroy() {},
  };
  return {
    createAdapter: () => new kysely.PostgresAdapter(),
    createDriver: () => driver,
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's own signature.
    createIntrospector: (db: Kysely<any>) => new kysely.PostgresIntrospector(db),
    createQueryCompiler: () => new kysely.PostgresQueryCompiler(),
  };
}
