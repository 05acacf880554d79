import {
  type ChangeLogEntry,
  type ChangeLogPage,
  diffRecords,
  type HistoryEntry,
  type HistoryEvent,
  type Relation,
  type RelationChange,
} from '@engram/core';
import { type MemoryRow, memoryColumns, rowToRecord } from './sqlite-records.js';
import type { SqliteSession } from './sqlite-session.js';

interface HistoryRow {
  memory_id: string;
  event: HistoryEvent | RelationChange['event'];
  at: number;
  /** Null for a `created` entry whose changes are still the memory row itself (see `appendHistory`). */
  changes: string | null;
  reason: string | null;
}

/**
 * Appends one entry to a memory's change log (inside the caller's write transaction).
 *
 * A `created` entry stores no changes: they are every recorded field of the new row, which the
 * row itself holds until it first changes (read back by `changesOf`). Before a recorded column of
 * the row changes, or the row is deleted, a trigger from migration 0011 copies the row as it was
 * into the entry (`{"engram:row": {…}}`). This saves a copy of every record (~690 bytes a memory).
 */
export function appendHistory(session: SqliteSession, entry: HistoryEntry): void {
  session
    .statement('INSERT INTO memory_history (memory_id, event, at, changes, reason) VALUES (?, ?, ?, ?, ?)')
    .run(entry.memoryId, entry.event, entry.at.getTime(), entry.event === 'created' ? null : JSON.stringify(entry.changes), entry.reason);
}

/** The changes of a `created` entry whose record is `row`: every field it sets. */
function createdChanges(row: MemoryRow): HistoryEntry['changes'] {
  return diffRecords(null, rowToRecord(row));
}

/**
 * An entry's changes: as stored; for a `created` entry, those of the row the trigger copied into
 * it, or (not copied yet) of the memory row as it is.
 */
function changesOf(session: SqliteSession, row: HistoryRow): HistoryEntry['changes'] {
  if (row.changes === null) {
    const memory = session.statement(`SELECT ${memoryColumns()} FROM memories WHERE id = ?`).get(row.memory_id) as MemoryRow | undefined;
    return memory ? createdChanges(memory) : {};
  }
  const changes = JSON.parse(row.changes) as HistoryEntry['changes'] | { 'engram:row': MemoryRow };
  if (row.event === 'created' && 'engram:row' in changes) return createdChanges(changes['engram:row'] as MemoryRow);
  return changes as HistoryEntry['changes'];
}

/**
 * Appends a graph change to the change log, filed under the edge's source (inside the caller's
 * write transaction); `changes` holds the edge, dates as epoch milliseconds.
 */
export function appendRelationChange(
  session: SqliteSession,
  event: RelationChange['event'],
  relation: Relation,
  at: Date,
  reason: string | null,
): void {
  const edge = { ...relation, createdAt: relation.createdAt.getTime(), updatedAt: relation.updatedAt.getTime() };
  session
    .statement('INSERT INTO memory_history (memory_id, event, at, changes, reason) VALUES (?, ?, ?, ?, ?)')
    .run(relation.sourceId, event, at.getTime(), JSON.stringify(edge), reason);
}

/** Graph changes share the log; a memory's history leaves them out. */
export const RELATION_EVENTS = "('relation:added', 'relation:removed')";

/** Every entry of a memory, oldest first (in the order they were appended). */
export function readHistory(session: SqliteSession, memoryId: string): HistoryEntry[] {
  const rows = session
    .statement(
      `SELECT memory_id, event, at, changes, reason FROM memory_history WHERE memory_id = ? AND event NOT IN ${RELATION_EVENTS} ORDER BY seq`,
    )
    .all(memoryId) as HistoryRow[];
  return rows.map((row) => ({
    memoryId: row.memory_id,
    event: row.event as HistoryEvent,
    at: new Date(row.at),
    changes: changesOf(session, row),
    reason: row.reason,
  }));
}

/** Entries of every memory after sequence number `after`, in order (see `MemoryStore.changesSince`). */
export function readChangesSince(session: SqliteSession, after: number | null, limit: number): ChangeLogPage {
  const head = (session.statement('SELECT coalesce(max(seq), 0) AS head FROM memory_history').get() as { head: number }).head;
  if (after === null || after >= head) return { head, entries: [] };
  const rows = session
    .statement('SELECT seq, memory_id, event, at, changes, reason FROM memory_history WHERE seq > ? ORDER BY seq LIMIT ?')
    .all(after, limit) as Array<HistoryRow & { seq: number }>;
  return { head, entries: rows.map((row) => toChangeLogEntry(session, row)) };
}

function toChangeLogEntry(session: SqliteSession, row: HistoryRow & { seq: number }): ChangeLogEntry {
  if (row.event === 'relation:added' || row.event === 'relation:removed') {
    const edge = JSON.parse(row.changes ?? '{}') as Omit<Relation, 'createdAt' | 'updatedAt'> & { createdAt: number; updatedAt: number };
    return {
      seq: row.seq,
      event: row.event,
      memoryId: row.memory_id,
      relation: { ...edge, createdAt: new Date(edge.createdAt), updatedAt: new Date(edge.updatedAt) },
      at: new Date(row.at),
      reason: row.reason,
    };
  }
  return {
    seq: row.seq,
    memoryId: row.memory_id,
    event: row.event,
    at: new Date(row.at),
    changes: changesOf(session, row),
    reason: row.reason,
  };
}
