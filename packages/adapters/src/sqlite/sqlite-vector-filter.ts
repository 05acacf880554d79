import type { MemoryFilter } from '@engram/core';
import type { SqlParameter } from './sqlite-filter.js';

/**
 * The part of a `MemoryFilter` that sqlite-vec can apply *during* a KNN scan, through the vec0
 * metadata columns (user_id, agent_id, run_id, conversation_id, type, subtype, created_at,
 * superseded).
 *
 * vec0 metadata columns cannot hold NULL, so a missing scope field, conversation or subtype is
 * stored as ''. A filter asking for '' therefore cannot be decided by the metadata columns and is
 * left to the SQL filter (`complete: false`), as are tags, `where`, `ids` and `asOf`.
 */
export interface VectorConstraints {
  /** Conditions on vec0 columns, AND-ed (unqualified column names). */
  conditions: string[];
  params: SqlParameter[];
  /** True when the conditions alone are the whole filter (deleted rows have no vector). */
  complete: boolean;
  /** True when the filter matches nothing (empty `types` and `subtypes`, or an empty `ids` list). */
  empty: boolean;
}

export function vectorConstraints(filter: MemoryFilter | undefined): VectorConstraints {
  const result: VectorConstraints = { conditions: [], params: [], complete: true, empty: false };
  const text = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    if (value === '') {
      result.complete = false;
      return;
    }
    result.conditions.push(`${column} = ?`);
    result.params.push(value);
  };
  const list = (column: string, values: readonly string[]) => {
    if (values.includes('')) result.complete = false;
    else if (values.length === 1) {
      result.conditions.push(`${column} = ?`);
      result.params.push(values[0] as string);
    } else {
      result.conditions.push(`${column} IN (SELECT value FROM json_each(?))`);
      result.params.push(JSON.stringify([...new Set(values)]));
    }
  };

  if (!filter) {
    result.conditions.push('superseded = 0');
    return result;
  }
  if (filter.asOf) {
    // Whether a superseded memory counts depends on its validTo, which vec0 does not hold.
    if (!filter.includeSuperseded) result.complete = false;
    result.conditions.push('created_at <= ?');
    result.params.push(BigInt(filter.asOf.getTime()));
  } else if (!filter.includeSuperseded) {
    result.conditions.push('superseded = 0');
  }
  text('user_id', filter.scope?.userId);
  text('agent_id', filter.scope?.agentId);
  text('run_id', filter.scope?.runId);
  text('conversation_id', filter.conversationId);
  if (filter.types || filter.subtypes) {
    // Types and subtypes are OR-ed: vec0 has no OR, so only one of them can be pushed down.
    const types = filter.types && filter.types.length > 0 ? filter.types : undefined;
    const subtypes = filter.subtypes && filter.subtypes.length > 0 ? filter.subtypes : undefined;
    if (!types && !subtypes) result.empty = true;
    else if (types && subtypes) result.complete = false;
    else if (types) list('type', types);
    else if (subtypes) list('subtype', subtypes);
  }
  // Integer metadata columns are compared with integers (BigInt binds as SQLite INTEGER).
  if (filter.after) {
    result.conditions.push('created_at >= ?');
    result.params.push(BigInt(filter.after.getTime()));
  }
  if (filter.before) {
    result.conditions.push('created_at < ?');
    result.params.push(BigInt(filter.before.getTime()));
  }
  if (filter.ids?.length === 0) result.empty = true;
  const anyTags = filter.tags?.any !== undefined && filter.tags.any.length > 0;
  const allTags = filter.tags?.all !== undefined && filter.tags.all.length > 0;
  if (anyTags || allTags || filter.where !== undefined || filter.ids !== undefined) result.complete = false;
  return result;
}
