import type { Relation } from '@engram/core';
import type { Queryable } from './postgres-client.js';
import { epochMs, SqlParameters } from './postgres-sql.js';

interface RelationRow {
  seq: number;
  source_id: string;
  target_id: string;
  type: string;
  weight: number;
  confidence: number;
  metadata: Record<string, unknown>;
  inferred: boolean;
  created_at: number;
  updated_at: number;
}

const columns = `seq, source_id, target_id, type, weight, confidence, metadata, inferred, ${epochMs('created_at')} AS created_at, ${epochMs('updated_at')} AS updated_at`;

/**
 * Inserts the edge, or updates weight, confidence, metadata, inferred and updatedAt of the one
 * with the same (source, target, type), keeping its createdAt. One statement, safe under
 * concurrency (`ON CONFLICT`); `xmax = 0` tells a fresh insert from an update.
 */
export async function upsertRelation(
  client: Queryable,
  table: string,
  relation: Relation,
): Promise<{ relation: Relation; created: boolean }> {
  const params = new SqlParameters();
  const { rows } = await client.query<RelationRow & { created: boolean }>(
    `INSERT INTO ${table} AS r (source_id, target_id, type, weight, confidence, metadata, inferred, created_at, updated_at)
     VALUES (${params.add(relation.sourceId)}, ${params.add(relation.targetId)}, ${params.add(relation.type)},
       ${params.add(relation.weight)}::float8, ${params.add(relation.confidence)}::float8, ${params.json(relation.metadata)},
       ${params.add(relation.inferred)}::boolean, ${params.time(relation.createdAt)}, ${params.time(relation.updatedAt)})
     ON CONFLICT (source_id, target_id, type) DO UPDATE SET
       weight = excluded.weight, confidence = excluded.confidence, metadata = excluded.metadata,
       inferred = excluded.inferred, updated_at = excluded.updated_at
     RETURNING ${columns}, (xmax = 0) AS created`,
    params.values,
  );
  const row = rows[0] as RelationRow & { created: boolean };
  return { relation: rowToRelation(row), created: row.created };
}

/** Removes the edges from source to target (of one type, or of all types) and returns them. */
export async function removeRelations(
  client: Queryable,
  table: string,
  sourceId: string,
  targetId: string,
  type?: string,
): Promise<Relation[]> {
  const typed = type !== undefined;
  const { rows } = await client.query<RelationRow>(
    `DELETE FROM ${table} WHERE source_id = $1 AND target_id = $2${typed ? ' AND type = $3' : ''} RETURNING ${columns}`,
    typed ? [sourceId, targetId, type] : [sourceId, targetId],
  );
  return rows.sort((a, b) => a.seq - b.seq).map(rowToRelation);
}

/** Edges touching these ids in the given direction, optionally of these types, oldest first. */
export async function relationsOf(
  client: Queryable,
  table: string,
  ids: string[],
  options: { direction: 'out' | 'in' | 'both'; types?: string[] },
): Promise<Relation[]> {
  if (ids.length === 0) return [];
  const params = new SqlParameters();
  const idList = params.textArray([...new Set(ids)]);
  const ends: string[] = [];
  if (options.direction !== 'in') ends.push(`source_id = ANY(${idList})`);
  if (options.direction !== 'out') ends.push(`target_id = ANY(${idList})`);
  let where = ends.length > 1 ? `(${ends.join(' OR ')})` : (ends[0] as string);
  if (options.types) where += ` AND type = ANY(${params.textArray(options.types)})`;
  const { rows } = await client.query<RelationRow>(
    `SELECT ${columns} FROM ${table} WHERE ${where} ORDER BY created_at, seq`,
    params.values,
  );
  return rows.map(rowToRelation);
}

function rowToRelation(row: RelationRow): Relation {
  return {
    sourceId: row.source_id,
    targetId: row.target_id,
    type: row.type,
    weight: row.weight,
    confidence: row.confidence,
    metadata: row.metadata,
    inferred: row.inferred,
    createdAt: new Date(Math.round(row.created_at)),
    updatedAt: new Date(Math.round(row.updated_at)),
  };
}
