import type { Condition, ConditionValue, MemoryFilter, Scope } from '../contracts/model.js';
import type { VectorPayload } from '../contracts/vector-index.js';

/**
 * The fields a filter reads. A `MemoryRecord` and a `VectorPayload` both have them; a
 * `RankingRecord` has all but `metadata`, which only a `where` condition reads.
 */
export type Filterable = Omit<VectorPayload, 'metadata'> & {
  metadata?: VectorPayload['metadata'];
  id: string;
  deletedAt?: Date | null;
};

/** A stable string for "the same scope": all three fields equal (missing = empty). */
export function scopeKey(scope: Scope): string {
  return JSON.stringify([scope.userId ?? '', scope.agentId ?? '', scope.runId ?? '']);
}

/** The reference implementation of `MemoryFilter` semantics; SQL stores must agree with it. */
export function matchesFilter(item: Filterable, filter: MemoryFilter | undefined): boolean {
  if (item.deletedAt) return false;
  if (!filter) return item.supersededBy === null;
  if (!filter.includeSuperseded && item.supersededBy !== null) {
    // With asOf, a supersession that happened after that instant is undone.
    const supersededAt = item.validTo?.getTime();
    if (!filter.asOf || supersededAt === undefined || supersededAt <= filter.asOf.getTime()) return false;
  }
  if (filter.asOf && item.createdAt.getTime() > filter.asOf.getTime()) return false;
  const scope = filter.scope;
  if (scope) {
    if (scope.userId !== undefined && item.scope.userId !== scope.userId) return false;
    if (scope.agentId !== undefined && item.scope.agentId !== scope.agentId) return false;
    if (scope.runId !== undefined && item.scope.runId !== scope.runId) return false;
  }
  if (filter.conversationId !== undefined && item.conversationId !== filter.conversationId) return false;
  if (filter.types || filter.subtypes) {
    const typeMatches = filter.types?.includes(item.type) ?? false;
    const subtypeMatches = item.subtype !== null && (filter.subtypes?.includes(item.subtype) ?? false);
    if (!typeMatches && !subtypeMatches) return false;
  }
  if (filter.tags?.any && filter.tags.any.length > 0 && !filter.tags.any.some((tag) => item.tags.includes(tag))) return false;
  if (filter.tags?.all && !filter.tags.all.every((tag) => item.tags.includes(tag))) return false;
  if (filter.after && item.createdAt.getTime() < filter.after.getTime()) return false;
  if (filter.before && item.createdAt.getTime() >= filter.before.getTime()) return false;
  if (filter.ids && !filter.ids.includes(item.id)) return false;
  if (filter.where) {
    if (item.metadata === undefined) throw new TypeError("matchesFilter: a filter with `where` needs the item's metadata");
    if (!evaluateCondition(item.metadata, filter.where)) return false;
  }
  return true;
}

const missing = Symbol('missing');

/** The metadata value at `path` (object keys only, never array indexes), or undefined when absent. */
export function metadataAt(metadata: Record<string, unknown>, path: readonly string[]): unknown {
  const value = resolvePath(metadata, path as string[]);
  return value === missing ? undefined : value;
}

function resolvePath(metadata: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = metadata;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return missing;
    if (!Object.hasOwn(current, segment)) return missing;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function jsonType(value: unknown): 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return type;
  return 'object';
}

function sameJsonValue(value: unknown, expected: ConditionValue): boolean {
  return jsonType(value) === jsonType(expected) && value === expected;
}

function ordered(value: unknown, expected: ConditionValue, test: (order: number) => boolean): boolean {
  if (typeof value === 'number' && typeof expected === 'number') return test(value - expected);
  if (typeof value === 'string' && typeof expected === 'string') return test(value < expected ? -1 : value > expected ? 1 : 0);
  return false;
}

/** Evaluates a normalised condition against a metadata object (semantics in `Condition`'s docs). */
export function evaluateCondition(metadata: Record<string, unknown>, condition: Condition): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.conditions.every((child) => evaluateCondition(metadata, child));
    case 'or':
      return condition.conditions.some((child) => evaluateCondition(metadata, child));
    case 'not':
      return !evaluateCondition(metadata, condition.condition);
    case 'compare': {
      const value = resolvePath(metadata, condition.path);
      switch (condition.operator) {
        case 'exists':
          return (value !== missing) === condition.value;
        case 'eq':
          return value !== missing && sameJsonValue(value, condition.value);
        case 'ne':
          return value === missing || !sameJsonValue(value, condition.value);
        case 'in':
          return value !== missing && condition.value.some((expected) => sameJsonValue(value, expected));
        case 'nin':
          return value === missing || !condition.value.some((expected) => sameJsonValue(value, expected));
        case 'gt':
          return ordered(value, condition.value, (order) => order > 0);
        case 'gte':
          return ordered(value, condition.value, (order) => order >= 0);
        case 'lt':
          return ordered(value, condition.value, (order) => order < 0);
        case 'lte':
          return ordered(value, condition.value, (order) => order <= 0);
        case 'contains': {
          if (Array.isArray(value)) return value.some((element) => sameJsonValue(element, condition.value));
          if (typeof value === 'string' && typeof condition.value === 'string') return value.includes(condition.value);
          return false;
        }
      }
    }
  }
}
