import type { MemoryFilter, StoreStatistics, StoreStatisticsOptions } from '@engram/core';
import { summariseGroups } from '../shared/statistics-groups.js';
import type { Queryable } from './postgres-client.js';
import { compileFilter } from './postgres-filter.js';
import type { PostgresSession } from './postgres-session.js';
import { SqlParameters } from './postgres-sql.js';

/**
 * `MemoryStore.statistics` in one statement of aggregates over the matching rows (one snapshot,
 * so the counts agree with each other): per (type, subtype, user, agent), per tag, per UTC day
 * and type since `createdSince`, and relations by source. No record is built.
 */
export async function readStatistics(
  session: PostgresSession,
  client: Queryable,
  filter: MemoryFilter,
  options: StoreStatisticsOptions,
): Promise<StoreStatistics> {
  const params = new SqlParameters();
  const where = compileFilter(filter, params);
  const since = params.time(options.createdSince);
  const { rows } = await client.query<{
    kind: string;
    a: string | null;
    b: string | null;
    c: string | null;
    d: string | null;
    count: number;
    extra: number;
  }>(
    `WITH matching AS MATERIALIZED (
       SELECT m.id, m.type, m.subtype, m.user_id, m.agent_id, m.tags, m.created_at, m.superseded_by FROM ${session.memories} m WHERE ${where}
     )
     SELECT 'group' AS kind, type AS a, subtype AS b, user_id AS c, agent_id AS d, count(*)::float8 AS count,
            count(superseded_by)::float8 AS extra
     FROM matching GROUP BY type, subtype, user_id, agent_id
     UNION ALL
     SELECT 'tag', tag, NULL, NULL, NULL, count(*)::float8, 0 FROM matching, unnest(matching.tags) AS tag GROUP BY tag
     UNION ALL
     SELECT 'day', type, NULL, NULL, NULL, count(*)::float8, floor(extract(epoch FROM created_at) / 86400)::float8 AS day
     FROM matching WHERE created_at >= ${since} GROUP BY type, floor(extract(epoch FROM created_at) / 86400)
     UNION ALL
     SELECT 'relations', NULL, NULL, NULL, NULL, count(*)::float8, 0 FROM ${session.relations} r WHERE r.source_id IN (SELECT id FROM matching)`,
    params.values,
  );
  const groups = rows
    .filter((row) => row.kind === 'group')
    .map((row) => ({ type: row.a as string, subtype: row.b, user_id: row.c, agent_id: row.d, count: row.count, superseded: row.extra }));
  return {
    ...summariseGroups(groups),
    tags: rows.filter((row) => row.kind === 'tag').map((row) => ({ tag: row.a as string, count: row.count })),
    createdPerDay: rows.filter((row) => row.kind === 'day').map((row) => ({ day: row.extra, type: row.a as string, count: row.count })),
    relations: rows.find((row) => row.kind === 'relations')?.count ?? 0,
  };
}
