import type { RankingRecord } from '@engram/core';
import { readLogChanges, readLogHead } from './sqlite-change-log.js';
import { type RankingRow, rankingColumns, rankingRowFromValues } from './sqlite-records.js';
import type { SqliteSession } from './sqlite-session.js';

/**
 * The ranking fields of the memories search ranked recently, remembered per connection by rowid,
 * so a search reads its ~75 candidates' rows once rather than each time (building 16 columns a
 * row was a fifth of a search's CPU at 10k). What is remembered is exactly what
 * `memory_vector_log` follows — every insert and delete, and every change of content, tags,
 * context, type, subtype, supersession, validity or soft deletion, whichever process writes
 * (triggers) — plus what no statement changes (id, scope, conversation, creation time; a derived
 * context's source changes only with the context). Before each use the log is read from the
 * entry the cache last applied: each rowid it names is forgotten; a reload (an erasure, or a log
 * that moved back or past what it keeps) forgets everything. The log head is read before any row,
 * so a row written after it is named by a later entry and forgotten at the next use.
 *
 * Importance and the stored decay score change without a log entry (`update`, `consolidate`),
 * so they are read with the liveness of the remembered candidates, by rowid, in one narrow query
 * (a rowid names the same memory until an erasure, which forgets everything) — and kept only
 * while the file provably has not changed: SQLite's `data_version` moves when any other
 * connection (this process or another) commits, and `total_changes()` when this one writes any
 * row (an access-statistics flush included). While both stand still since the last use, the log
 * head and those fields cannot have moved either, and a search reads neither (the narrow query
 * was ~55 µs of a 1.6 ms search at 10k).
 *
 * At most `capacity` rows are kept (~0.5 KB each at the bench's 130-character memories); beyond,
 * the longest-kept are forgotten first.
 */
const capacity = 16_384;

interface RankingCache {
  appliedSeq: number;
  rows: Map<number, RankingRow>;
  /**
   * The record last answered for each row in `rows`: answered again while its importance and
   * decay score are the same, so search can remember what it derived from it (the relevance
   * floor's terms) — callers never change a record (see `MemoryStore.getRankingFields`).
   */
  records: Map<number, RankingRecord>;
  /** The rowid of each memory in `rows`, by id. */
  rowids: Map<string, number>;
  /** The file's stamp (`readStamp`) when `appliedSeq` was last confirmed and `fresh` began. */
  stamp: Stamp;
  /** Importance and decay score of remembered rows as read at `stamp` (null: no longer live). */
  fresh: Map<number, Fresh | null>;
}

type Fresh = readonly [importance: number, decayScore: number | null];
type Stamp = readonly [dataVersion: number, totalChanges: number];

const stampSql = 'SELECT data_version, total_changes() FROM pragma_data_version';

/** What moves whenever the file's rows may have: another connection's commit, or any row this connection wrote. */
function readStamp(session: SqliteSession): Stamp {
  return session.statement(stampSql).raw(true).get() as [number, number];
}

const caches = new WeakMap<SqliteSession, RankingCache>();

/** The `RankingRecord` of each live memory among `ids`, in any order. */
export function readRankingFields(session: SqliteSession, ids: readonly string[]): RankingRecord[] {
  const cache = current(session);
  const { rows, rowids } = cache;
  const known: number[] = [];
  const unknown: string[] = [];
  for (const id of ids) {
    const rowid = rowids.get(id);
    if (rowid === undefined) unknown.push(id);
    else known.push(rowid);
  }
  const records: RankingRecord[] = [];
  // Remembered rows: their liveness and the two fields no log entry follows, by rowid, unless
  // read since the file last changed.
  const { fresh } = cache;
  const stale: number[] = [];
  for (const rowid of known) {
    const values = fresh.get(rowid);
    if (values === undefined) stale.push(rowid);
    else if (values !== null) records.push(rankingRecord(cache, rowid, rows.get(rowid) as RankingRow, values[0], values[1]));
  }
  if (stale.length > 0) {
    const read = session
      .statement(
        'SELECT rowid, importance, decay_score FROM memories WHERE rowid IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL',
      )
      .raw(true)
      .all(JSON.stringify(stale)) as Array<[number, number, number | null]>;
    for (const rowid of stale) fresh.set(rowid, null);
    for (const [rowid, importance, decayScore] of read) {
      const row = rows.get(rowid);
      if (row === undefined) continue;
      fresh.set(rowid, [importance, decayScore]);
      records.push(rankingRecord(cache, rowid, row, importance, decayScore));
    }
  }
  if (unknown.length > 0) {
    const read = session
      .statement(
        `SELECT rowid, importance, decay_score, ${rankingColumns} FROM memories WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL`,
      )
      .raw(true)
      .all(JSON.stringify(unknown)) as unknown[][];
    for (const values of read) {
      const rowid = values[0] as number;
      const row = rankingRowFromValues(values, 3);
      if (rows.size >= capacity) forget(cache, rows.keys().next().value as number);
      rows.set(rowid, row);
      cache.records.delete(rowid);
      rowids.set(row.id, rowid);
      fresh.set(rowid, [values[1] as number, values[2] as number | null]);
      records.push(rankingRecord(cache, rowid, row, values[1] as number, values[2] as number | null));
    }
  }
  return records;
}

/** The record of a remembered row with these values: the one answered last time if they are the same. */
function rankingRecord(cache: RankingCache, rowid: number, row: RankingRow, importance: number, decayScore: number | null): RankingRecord {
  const last = cache.records.get(rowid);
  if (last !== undefined && Object.is(last.importance, importance) && Object.is(last.decayScore ?? null, decayScore)) return last;
  const record: RankingRecord = {
    id: row.id,
    content: row.content,
    type: row.type,
    subtype: row.subtype,
    tags: row.tags,
    scope: row.scope,
    conversationId: row.conversationId,
    importance,
    createdAt: row.createdAt,
    supersededBy: row.supersededBy,
    validTo: row.validTo,
    deletedAt: null,
  };
  if (row.context !== undefined) record.context = row.context;
  if (row.contextSource !== undefined) record.contextSource = row.contextSource;
  if (decayScore !== null) record.decayScore = decayScore;
  cache.records.set(rowid, record);
  return record;
}

function forget(cache: RankingCache, rowid: number): void {
  const row = cache.rows.get(rowid);
  if (row === undefined) return;
  cache.rows.delete(rowid);
  cache.records.delete(rowid);
  cache.rowids.delete(row.id);
  cache.fresh.delete(rowid);
}

/** This connection's cache, with every row the log names since its last use forgotten. */
function current(session: SqliteSession): RankingCache {
  // The stamp is read before the log head and any row: a commit after it moves it, so what is
  // read next is checked again at the next use.
  const stamp = readStamp(session);
  let cache = caches.get(session);
  if (cache === undefined) {
    cache = { appliedSeq: readLogHead(session), rows: new Map(), records: new Map(), rowids: new Map(), stamp, fresh: new Map() };
    caches.set(session, cache);
    return cache;
  }
  if (stamp[0] === cache.stamp[0] && stamp[1] === cache.stamp[1]) return cache;
  cache.stamp = stamp;
  cache.fresh.clear();
  if (readLogHead(session) === cache.appliedSeq) return cache;
  const changes = readLogChanges(session, cache.appliedSeq, cache.rows.size);
  if (changes.kind === 'reload') {
    cache.rows.clear();
    cache.records.clear();
    cache.rowids.clear();
  } else for (const rowid of changes.rowids) forget(cache, rowid);
  cache.appliedSeq = changes.head;
  return cache;
}
