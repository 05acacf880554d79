import {
  type ChangeLogEntry,
  type ChangeLogPage,
  diffRecords,
  type HistoryEntry,
  type HistoryEvent,
  type Relation,
  type RelationChange,
} from '@engram/core';
import type { Queryable } from './postgres-client.js';
import { type MemoryRow, memoryColumns, rowToRecord } from './postgres-records.js';
import { epochMs } from './postgres-sql.js';

interface HistoryRow {
  memory_id: string;
  event: HistoryEvent | RelationChange['event'];
  at: number;
  /** Null for a `created` entry whose changes are still the memory row itself (see `appendHistory`). */
  changes: HistoryEntry['changes'] | StoredRelation | { 'engram:row': MemoryRow } | null;
  reason: string | null;
  /** The memory row, read with the entry when its changes are null. */
  created_row: MemoryRow | null;
}

/**
 * Appends entries to the change log in one statement, in order (inside the caller's write
 * transaction). `changes` is bound as `json`, not `jsonb`, so it reads back exactly as written.
 *
 * A `created` entry stores no changes (migration 0013): they are every recorded field of the new
 * row, which the row itself holds until it first changes (read back by `changesOf`). Before a
 * recorded column of the row changes, or the row is deleted, a trigger copies the row as it was
 * into the entry (`{"engram:row": {…}}`), whoever writes. Only when the same list also changes
 * the memory (a keyed write updating what the batch created: the update ran before this insert,
 * so no trigger saw an entry to fill) does the created entry keep its copy.
 */
export async function appendHistory(transaction: Queryable, table: string, entries: HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const changedLater = new Set<string>();
  const keepsCopy = new Set<HistoryEntry>();
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index] as HistoryEntry;
    if (entry.event === 'created' && changedLater.has(entry.memoryId)) keepsCopy.add(entry);
    if (entry.event !== 'created') changedLater.add(entry.memoryId);
  }
  const rows = entries.map((entry) => ({
    memory_id: entry.memoryId,
    event: entry.event,
    at: entry.at.toISOString(),
    changes: entry.event === 'created' && !keepsCopy.has(entry) ? null : entry.changes,
    reason: entry.reason,
  }));
  await transaction.query(
    `INSERT INTO ${table} (memory_id, event, at, changes, reason)
     SELECT entry.memory_id, entry.event, entry.at, entry.changes, entry.reason
     FROM ROWS FROM (json_to_recordset($1::json) AS (memory_id text, event text, at timestamptz, changes json, reason text))
       WITH ORDINALITY AS entry(memory_id, event, at, changes, reason, position)
     ORDER BY entry.position`,
    [JSON.stringify(rows)],
  );
}

type StoredRelation = Omit<Relation, 'createdAt' | 'updatedAt'> & { createdAt: number; updatedAt: number };

/** Graph changes share the log; a memory's history leaves them out. */
export const RELATION_EVENTS = "('relation:added', 'relation:removed')";

/**
 * Appends graph changes to the change log, filed under each edge's source, in one statement
 * (inside the caller's transaction); `changes` holds the edge, dates as epoch milliseconds.
 */
export async function appendRelationChanges(
  transaction: Queryable,
  table: string,
  event: RelationChange['event'],
  relations: Relation[],
  at: Date,
  reason: string | null,
): Promise<void> {
  if (relations.length === 0) return;
  await appendHistory(
    transaction,
    table,
    relations.map((relation) => ({
      memoryId: relation.sourceId,
      event: event as unknown as HistoryEvent,
      at,
      changes: { ...relation, createdAt: relation.createdAt.getTime(), updatedAt: relation.updatedAt.getTime() } as never,
      reason,
    })),
  );
}

/**
 * The columns of a history read: the entry's, and the memory row when the entry's changes are
 * null (a `created` entry whose row was not changed since), in the same statement so the row is
 * the one of the same snapshot.
 */
function historyColumns(memories: string): string {
  return `h.memory_id, h.event, ${epochMs('h.at')} AS at, h.changes, h.reason,
    CASE WHEN h.changes IS NULL THEN (SELECT to_json(r) FROM (SELECT ${memoryColumns('m')}) AS r) END AS created_row
    FROM __HISTORY__ AS h LEFT JOIN ${memories} AS m ON h.changes IS NULL AND m.id = h.memory_id`;
}

/** An entry's changes: as stored; for a `created` entry, those of the row copied into it, or of the memory row as it is. */
function changesOf(row: HistoryRow): HistoryEntry['changes'] {
  if (row.changes === null) return row.created_row ? diffRecords(null, rowToRecord(row.created_row)) : {};
  if (row.event === 'created' && 'engram:row' in row.changes) return diffRecords(null, rowToRecord(row.changes['engram:row'] as MemoryRow));
  return row.changes as HistoryEntry['changes'];
}

/** Every entry of a memory, oldest first (in the order they were appended). */
export async function readHistory(client: Queryable, table: string, memories: string, memoryId: string): Promise<HistoryEntry[]> {
  const { rows } = await client.query<HistoryRow>(
    `SELECT ${historyColumns(memories).replace('__HISTORY__', table)}
     WHERE h.memory_id = $1 AND h.event NOT IN ${RELATION_EVENTS} ORDER BY h.seq`,
    [memoryId],
  );
  return rows.map((row) => ({
    memoryId: row.memory_id,
    event: row.event as HistoryEvent,
    at: new Date(Math.round(row.at)),
    changes: changesOf(row),
    reason: row.reason,
  }));
}

/** Entries of every memory after sequence number `after`, in order (see `MemoryStore.changesSince`). */
export async function readChangesSince(
  client: Queryable,
  table: string,
  memories: string,
  after: number | null,
  limit: number,
): Promise<ChangeLogPage> {
  const head = await client.query<{ head: string }>(`SELECT coalesce(max(seq), 0)::text AS head FROM ${table}`);
  const headSeq = Number(head.rows[0]?.head ?? 0);
  if (after === null || after >= headSeq) return { head: headSeq, entries: [] };
  const { rows } = await client.query<HistoryRow & { seq: string }>(
    `SELECT h.seq::text AS seq, ${historyColumns(memories).replace('__HISTORY__', table)} WHERE h.seq > $1 ORDER BY h.seq LIMIT $2`,
    [after, limit],
  );
  return { head: headSeq, entries: rows.map(toChangeLogEntry) };
}

function toChangeLogEntry(row: HistoryRow & { seq: string }): ChangeLogEntry {
  const seq = Number(row.seq);
  const at = new Date(Math.round(row.at));
  if (row.event === 'relation:added' || row.event === 'relation:removed') {
    const edge = row.changes as StoredRelation;
    return {
      seq,
      event: row.event,
      memoryId: row.memory_id,
      relation: { ...edge, createdAt: new Date(edge.createdAt), updatedAt: new Date(edge.updatedAt) },
      at,
      reason: row.reason,
    };
  }
  return { seq, memoryId: row.memory_id, event: row.event, at, changes: changesOf(row), reason: row.reason };
}
