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

/** One remembered memory. */
interface Entry {
  rowid: number;
  row: RankingRow;
  /**
   * The record last answered for it: answered again while its importance and decay score are the
   * same, so search can remember what it derived from it (the relevance floor's terms) —
   * callers never change a record (see `MemoryStore.getRankingFields`). Null before the first.
   */
  record: RankingRecord | null;
  /** The cache's `generation` when importance, decay score and liveness were last read. */
  readAt: number;
  /** Whether the row was live then (`record` holds the values read then when it was). */
  live: boolean;
}

interface RankingCache {
  appliedSeq: number;
  /** By rowid, longest-kept first; and the same entries by memory id (one lookup a candidate). */
  byRowid: Map<number, Entry>;
  byId: Map<string, Entry>;
  /** The file's stamp (`readStamp`) when `appliedSeq` was last confirmed and `generation` began. */
  stamp: Stamp;
  /** Moves with the stamp: an entry whose `readAt` is older has its three fresh fields read again. */
  generation: number;
}

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
  const { byId, generation } = cache;
  const records: RankingRecord[] = [];
  // Remembered rows: their liveness and the two fields no log entry follows, by rowid, unless
  // read since the file last changed.
  const stale: Entry[] = [];
  const unknown: string[] = [];
  for (const id of ids) {
    const entry = byId.get(id);
    if (entry === undefined) unknown.push(id);
    else if (entry.readAt !== generation) stale.push(entry);
    else if (entry.live) records.push(entry.record as RankingRecord);
  }
  if (stale.length > 0) {
    const read = session
      .statement(
        'SELECT rowid, importance, decay_score FROM memories WHERE rowid IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL',
      )
      .raw(true)
      .all(JSON.stringify(stale.map((entry) => entry.rowid))) as Array<[number, number, number | null]>;
    for (const entry of stale) {
      entry.readAt = generation;
      entry.live = false;
    }
    for (const [rowid, importance, decayScore] of read) {
      const entry = cache.byRowid.get(rowid);
      if (entry === undefined) continue;
      entry.live = true;
      records.push(rankingRecord(entry, importance, decayScore));
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
      if (cache.byRowid.size >= capacity) forget(cache, cache.byRowid.keys().next().value as number);
      forget(cache, rowid);
      const entry: Entry = { rowid, row, record: null, readAt: generation, live: true };
      cache.byRowid.set(rowid, entry);
      byId.set(row.id, entry);
      records.push(rankingRecord(entry, values[1] as number, values[2] as number | null));
    }
  }
  return records;
}

/** The record of a remembered row with these values: the one answered last time if they are the same. */
function rankingRecord(entry: Entry, importance: number, decayScore: number | null): RankingRecord {
  const last = entry.record;
  if (last !== null && Object.is(last.importance, importance) && Object.is(last.decayScore ?? null, decayScore)) return last;
  const { row } = entry;
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
  entry.record = record;
  return record;
}

function forget(cache: RankingCache, rowid: number): void {
  const entry = cache.byRowid.get(rowid);
  if (entry === undefined) return;
  cache.byRowid.delete(rowid);
  if (cache.byId.get(entry.row.id) === entry) cache.byId.delete(entry.row.id);
}

/** This connection's cache, with every row the log names since its last use forgotten. */
function current(session: SqliteSession): RankingCache {
  // The stamp is read before the log head and any row: a commit after it moves it, so what is
  // read next is checked again at the next use.
  const stamp = readStamp(session);
  let cache = caches.get(session);
  if (cache === undefined) {
    cache = { appliedSeq: readLogHead(session), byRowid: new Map(), byId: new Map(), stamp, generation: 0 };
    caches.set(session, cache);
    return cache;
  }
  if (stamp[0] === cache.stamp[0] && stamp[1] === cache.stamp[1]) return cache;
  cache.stamp = stamp;
  cache.generation += 1;
  if (readLogHead(session) === cache.appliedSeq) return cache;
  const changes = readLogChanges(session, cache.appliedSeq, cache.byRowid.size);
  if (changes.kind === 'reload') {
    cache.byRowid.clear();
    cache.byId.clear();
  } else for (const rowid of changes.rowids) forget(cache, rowid);
  cache.appliedSeq = changes.head;
  return cache;
}
