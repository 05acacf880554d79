import type { ChangeLogEntry, ChangeLogPage, HistoryEntry, HistoryEvent, Relation, RelationChange } from '@engram/core';
import type { Queryable } from './postgres-client.js';
import { epochMs } from './postgres-sql.js';

interface HistoryRow {
  memory_id: string;
  event: HistoryEvent | RelationChange['event'];
  at: number;
  changes: HistoryEntry['changes'] | StoredRelation;
  reason: string | null;
}

/**
 * Appends entries to the change log in one statement, in order (inside the caller's write
 * transaction). `changes` is bound as `json`, not `jsonb`, so it reads back exactly as written.
 */
export async function appendHistory(transaction: Queryable, table: string, entries: HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    memory_id: entry.memoryId,
    event: entry.event,
    at: entry.at.toISOString(),
    changes: entry.changes,
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

/** Every entry of a memory, oldest first (in the order they were appended). */
export async function readHistory(client: Queryable, table: string, memoryId: string): Promise<HistoryEntry[]> {
  const { rows } = await client.query<HistoryRow>(
    `SELECT memory_id, event, ${epochMs('at')} AS at, changes, reason FROM ${table} WHERE memory_id = $1 AND event NOT IN ${RELATION_EVENTS} ORDER BY seq`,
    [memoryId],
  );
  return rows.map((row) => ({
    memoryId: row.memory_id,
    event: row.event as HistoryEvent,
    at: new Date(Math.round(row.at)),
    changes: row.changes as HistoryEntry['changes'],
    reason: row.reason,
  }));
}

/** Entries of every memory after sequence number `after`, in order (see `MemoryStore.changesSince`). */
export async function readChangesSince(client: Queryable, table: string, after: number | null, limit: number): Promise<ChangeLogPage> {
  const head = await client.query<{ head: string }>(`SELECT coalesce(max(seq), 0)::text AS head FROM ${table}`);
  const headSeq = Number(head.rows[0]?.head ?? 0);
  if (after === null || after >= headSeq) return { head: headSeq, entries: [] };
  const { rows } = await client.query<HistoryRow & { seq: string }>(
    `SELECT seq::text AS seq, memory_id, event, ${epochMs('at')} AS at, changes, reason FROM ${table} WHERE seq > $1 ORDER BY seq LIMIT $2`,
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
  return { seq, memoryId: row.memory_id, event: row.event, at, changes: row.changes as HistoryEntry['changes'], reason: row.reason };
}
