import type { MemoryRecord, Scope } from '@engram/core';

/** Where an integration reads and writes: an Engram scope plus an optional conversation. */
export interface MemoryScope {
  userId?: string;
  agentId?: string;
  runId?: string;
  /** Tags every memory written through the integration with this conversation. Reads are not limited to it. */
  conversationId?: string;
}

export function scopeOf(scope: MemoryScope): Scope {
  const result: Scope = {};
  if (scope.userId !== undefined) result.userId = scope.userId;
  if (scope.agentId !== undefined) result.agentId = scope.agentId;
  if (scope.runId !== undefined) result.runId = scope.runId;
  return result;
}

/** True when every scope field the integration was given matches the record's. */
export function isInScope(record: MemoryRecord, scope: MemoryScope): boolean {
  const bounds = scopeOf(scope);
  return (Object.keys(bounds) as (keyof Scope)[]).every((field) => record.scope[field] === bounds[field]);
}
