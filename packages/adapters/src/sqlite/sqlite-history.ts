import type { ChangeLogEntry, ChangeLogPage, HistoryEntry, HistoryEvent, Relation, RelationChange } from '@engram/core';
import type { SqliteSession } from './sqlite-session.js';

interface HistoryRow {
  memory_id: string;
  event: HistoryEvent | RelationChange['event'];
  at: number;
  changes: string;
  reason: string | null;
}

/** Appends one entry to a memory's change log (inside the caller's write transaction). */
export function appendHistory(session: SqliteSession, entry: HistoryEntry): void {
  session
    .statement('INSERT INTO memory_history (memory_id, event, at, changes, reason) VALUES (?, ?, ?, ?, ?)')
    .run(entry.memoryId, entry.event, entry.at.getTime(), JSON.stringify(entry.changes), entry.reason);
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
    changes: JSON.parse(row.changes) as HistoryEntry['changes'],
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
  return { head, entries: rows.map(toChangeLogEntry) };
}

function toChangeLogEntry(row: HistoryRow & { seq: number }): ChangeLogEntry {
  if (row.event === 'relation:added' || row.event === 'relation:removed') {
    const edge = JSON.parse(row.changes) as Omit<Relation, 'createdAt' | 'updatedAt'> & { createdAt: number; updatedAt: number };
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
    changes: JSON.parse(row.changes) as HistoryEntry['changes'],
    reason: row.reason,
  };
}
