import type { MemoryFilter, StoreStatistics, StoreStatisticsOptions } from '@engram/core';
import { type StatisticsGroup, summariseGroups } from '../shared/statistics-groups.js';
import { compileFilter } from './sqlite-filter.js';
import type { SqliteSession } from './sqlite-session.js';

const DAY_MS = 86_400_000;

/**
 * `MemoryStore.statistics` in four aggregate statements over the matching rows, in one read
 * transaction (so the counts agree with each other). No record is built, where the scan core
 * falls back to builds each one and asks for its relations page by page. Tags come from
 * `memory_tags`, relations from `memory_relations` by source.
 */
export function readStatistics(session: SqliteSession, filter: MemoryFilter, options: StoreStatisticsOptions): StoreStatistics {
  const where = compileFilter(filter);
  const read = () => {
    const groups = session
      .statement(
        `SELECT m.type, m.subtype, m.user_id, m.agent_id, count(*) AS count, sum(m.superseded_by IS NOT NULL) AS superseded
         FROM memories m WHERE ${where.sql} GROUP BY m.type, m.subtype, m.user_id, m.agent_id`,
      )
      .all(...where.params) as StatisticsGroup[];
    const tags = session
      .statement(
        `SELECT t.tag, count(*) AS count FROM memory_tags t JOIN memories m ON m.rowid = t.memory_rowid WHERE ${where.sql} GROUP BY t.tag`,
      )
      .all(...where.params) as Array<{ tag: string; count: number }>;
    const createdPerDay = session
      .statement(
        `SELECT m.created_at / ${DAY_MS} AS day, m.type, count(*) AS count FROM memories m
         WHERE ${where.sql} AND m.created_at >= ? GROUP BY day, m.type`,
      )
      .all(...where.params, options.createdSince.getTime()) as Array<{ day: number; type: string; count: number }>;
    const relations = session
      .statement(`SELECT count(*) FROM memory_relations WHERE source_id IN (SELECT m.id FROM memories m WHERE ${where.sql})`)
      .pluck()
      .get(...where.params) as number;
    return { groups, tags, createdPerDay, relations };
  };
  const { groups, tags, createdPerDay, relations } = session.db.transaction(read).deferred();
  return { ...summariseGroups(groups), tags, createdPerDay, relations };
}
