import type BetterSqlite3 from 'better-sqlite3';

/** Kysely's bookkeeping tables, named so they never collide with an application's own Kysely migrations. */
export const migrationTableName = 'engram_migration';

/**
 * Every migration, in order: `sqlite-migrations.ts` defines one per name (a test checks they
 * agree). Kept apart from the migrations so that opening a store whose schema is current never
 * loads Kysely (~100 ms of a cold start).
 */
export const migrationNames = [
  '0001-initial',
  '0002-context',
  '0003-vector-codes',
  '0004-lexical-index',
  '0005-decay-score',
  '0009-vector-collections',
  '0010-int8-vectors',
  '0011-compact-rows',
  '0013-access-statistics',
  '0015-rowid-major-tags',
  '0016-appending-hash-index',
  '0017-erasure-log',
  '0018-change-log-horizon',
];

/** True when every migration has been applied to this database (a read; no write lock). */
export function schemaIsCurrent(db: BetterSqlite3.Database): boolean {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(migrationTableName);
  if (!table) return false;
  const applied = new Set((db.prepare(`SELECT name FROM ${migrationTableName}`).all() as Array<{ name: string }>).map((row) => row.name));
  return migrationNames.every((name) => applied.has(name));
}
