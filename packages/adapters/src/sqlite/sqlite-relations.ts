import type { Relation } from '@engram/core';
import type { SqlParameter } from './sqlite-filter.js';
import type { SqliteSession } from './sqlite-session.js';

interface RelationRow {
  seq: number;
  source_id: string;
  target_id: string;
  type: string;
  weight: number;
  confidence: number;
  metadata: string;
  inferred: number;
  created_at: number;
  updated_at: number;
}

const columns = 'seq, source_id, target_id, type, weight, confidence, metadata, inferred, created_at, updated_at';

/**
 * Inserts the edge, or updates weight, confidence, metadata, inferred and updatedAt of the one
 * with the same (source, target, type), keeping its createdAt. Runs in the caller's transaction.
 */
export function upsertRelation(session: SqliteSession, relation: Relation): { relation: Relation; created: boolean } {
  const find = session.statement(`SELECT ${columns} FROM memory_relations WHERE source_id = ? AND target_id = ? AND type = ?`);
  const existing = find.get(relation.sourceId, relation.targetId, relation.type) as RelationRow | undefined;
  const metadata = JSON.stringify(relation.metadata);
  const inferred = relation.inferred ? 1 : 0;
  if (existing) {
    session
      .statement('UPDATE memory_relations SET weight = ?, confidence = ?, metadata = ?, inferred = ?, updated_at = ? WHERE seq = ?')
      .run(relation.weight, relation.confidence, metadata, inferred, relation.updatedAt.getTime(), existing.seq);
  } else {
    session
      .statement(
        `INSERT INTO memory_relations (source_id, target_id, type, weight, confidence, metadata, inferred, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        relation.sourceId,
        relation.targetId,
        relation.type,
        relation.weight,
        relation.confidence,
        metadata,
        inferred,
        relation.createdAt.getTime(),
        relation.updatedAt.getTime(),
      );
  }
  const stored = find.get(relation.sourceId, relation.targetId, relation.type) as RelationRow;
  return { relation: rowToRelation(stored), created: !existing };
}

/** Removes the edges from source to target (of one type, or of all types) and returns them. */
export function removeRelations(session: SqliteSession, sourceId: string, targetId: string, type?: string): Relation[] {
  const typed = type !== undefined;
  const rows = session
    .statement(`DELETE FROM memory_relations WHERE source_id = ? AND target_id = ?${typed ? ' AND type = ?' : ''} RETURNING ${columns}`)
    .all(...(typed ? [sourceId, targetId, type] : [sourceId, targetId])) as RelationRow[];
  return rows.sort((a, b) => a.seq - b.seq).map(rowToRelation);
}

/** Edges touching these ids in the given direction, optionally of these types, oldest first. */
export function relationsOf(
  session: SqliteSession,
  ids: string[],
  options: { direction: 'out' | 'in' | 'both'; types?: string[] },
): Relation[] {
  if (ids.length === 0) return [];
  const idList = JSON.stringify([...new Set(ids)]);
  const params: SqlParameter[] = [];
  const ends: string[] = [];
  if (options.direction !== 'in') {
    ends.push('source_id IN (SELECT value FROM json_each(?))');
    params.push(idList);
  }
  if (options.direction !== 'out') {
    ends.push('target_id IN (SELECT value FROM json_each(?))');
    params.push(idList);
  }
  let where = ends.length > 1 ? `(${ends.join(' OR ')})` : (ends[0] as string);
  if (options.types) {
    where += ' AND type IN (SELECT value FROM json_each(?))';
    params.push(JSON.stringify(options.types));
  }
  const rows = session
    .statement(`SELECT ${columns} FROM memory_relations WHERE ${where} ORDER BY created_at, seq`)
    .all(...params) as RelationRow[];
  return rows.map(rowToRelation);
}

function rowToRelation(row: RelationRow): Relation {
  return {
    sourceId: row.source_id,
    targetId: row.target_id,
    type: row.type,
    weight: row.weight,
    confidence: row.confidence,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    inferred: row.inferred === 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
