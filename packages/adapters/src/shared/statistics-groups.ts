import type { StoreStatistics } from '@engram/core';

/** Matching records counted per (type, subtype, user, agent), as an aggregate query answers them. */
export interface StatisticsGroup {
  type: string;
  subtype: string | null;
  user_id: string | null;
  agent_id: string | null;
  count: number;
  superseded: number;
}

/** Totals per dimension from counts per (type, subtype, user, agent). */
export function summariseGroups(
  groups: StatisticsGroup[],
): Pick<StoreStatistics, 'total' | 'superseded' | 'byType' | 'bySubtype' | 'byUser' | 'byAgent'> {
  const add = <Key>(counts: Map<Key, number>, key: Key, count: number) => counts.set(key, (counts.get(key) ?? 0) + count);
  const byType = new Map<string, number>();
  const bySubtype = new Map<string, number>();
  const byUser = new Map<string | null, number>();
  const byAgent = new Map<string | null, number>();
  let total = 0;
  let superseded = 0;
  for (const group of groups) {
    const count = Number(group.count);
    total += count;
    superseded += Number(group.superseded);
    add(byType, group.type, count);
    if (group.subtype) add(bySubtype, group.subtype, count);
    add(byUser, group.user_id, count);
    add(byAgent, group.agent_id, count);
  }
  return {
    total,
    superseded,
    byType: [...byType].map(([type, count]) => ({ type, count })),
    bySubtype: [...bySubtype].map(([subtype, count]) => ({ subtype, count })),
    byUser: [...byUser].map(([userId, count]) => ({ userId, count })),
    byAgent: [...byAgent].map(([agentId, count]) => ({ agentId, count })),
  };
}
