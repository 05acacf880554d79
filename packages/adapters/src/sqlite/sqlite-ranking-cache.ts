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
 * so each use reads them fresh with the liveness of every remembered candidate, by rowid, in one
 * narrow query (a rowid names the same memory until an erasure, which forgets everything).
 *
 * At most `capacity` rows are kept (~0.5 KB each at the bench's 130-character memories); beyond,
 * the longest-kept are forgotten first.
 */
const capacity = 16_384;

interface RankingCache {
  appliedSeq: number;
  rows: Map<number, RankingRow>;
  /** The rowid of each memory in `rows`, by id. */
  rowids: Map<string, number>;
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
  if (known.length > 0) {
    // Remembered rows: their liveness and the two fields no log entry follows, by rowid.
    const fresh = session
      .statement(
        'SELECT rowid, importance, decay_score FROM memories WHERE rowid IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL',
      )
      .raw(true)
      .all(JSON.stringify(known)) as Array<[number, number, number | null]>;
    for (const [rowid, importance, decayScore] of fresh) {
      const row = rows.get(rowid);
      if (row !== undefined) records.push(rankingRecord(row, importance, decayScore));
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
      rowids.set(row.id, rowid);
      records.push(rankingRecord(row, values[1] as number, values[2] as number | null));
    }
  }
  return records;
}

function rankingRecord(row: RankingRow, importance: number, decayScore: number | null): RankingRecord {
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
  return record;
}

function forget(cache: RankingCache, rowid: number): void {
  const row = cache.rows.get(rowid);
  if (row === undefined) return;
  cache.rows.delete(rowid);
  cache.rowids.delete(row.id);
}

/** This connection's cache, with every row the log names since its last use forgotten. */
function current(session: SqliteSession): RankingCache {
  let cache = caches.get(session);
  if (cache === undefined) {
    cache = { appliedSeq: readLogHead(session), rows: new Map(), rowids: new Map() };
    caches.set(session, cache);
    return cache;
  }
  if (readLogHead(session) === cache.appliedSeq) return cache;
  const changes = readLogChanges(session, cache.appliedSeq, cache.rows.size);
  if (changes.kind === 'reload') {
    cache.rows.clear();
    cache.rowids.clear();
  } else for (const rowid of changes.rowids) forget(cache, rowid);
  cache.appliedSeq = changes.head;
  return cache;
}
