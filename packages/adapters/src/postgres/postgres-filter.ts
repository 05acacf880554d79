import type { Condition, ConditionValue, MemoryFilter } from '@engram/core';
import type { SqlParameters } from './postgres-sql.js';

export interface CompileFilterOptions {
  /** Alias of the `memories` table in the surrounding query. Default 'm'. */
  alias?: string;
  /** Also match soft-deleted rows (list's `includeDeleted`). Default false. */
  includeDeleted?: boolean;
}

/**
 * Compiles a `MemoryFilter` to a WHERE expression over `memories` that agrees exactly with core's
 * `matchesFilter` (the reference semantics), so filters run inside each query, before any LIMIT.
 * Parameters are appended to `params`; the SQL text depends only on the filter's shape.
 *
 * Metadata conditions are two-valued (true or false, never NULL), so `NOT`, `ne` and `nin` match
 * missing fields exactly as the JavaScript reference does.
 */
export function compileFilter(filter: MemoryFilter | undefined, params: SqlParameters, options: CompileFilterOptions = {}): string {
  const m = options.alias ?? 'm';
  const parts: string[] = [];
  if (!options.includeDeleted) parts.push(`${m}.deleted_at IS NULL`);
  if (!filter?.includeSuperseded) {
    // As of an instant, a supersession that happened later (validTo after it) is undone.
    if (!filter?.asOf) parts.push(`${m}.superseded_by IS NULL`);
    else parts.push(`(${m}.superseded_by IS NULL OR coalesce(${m}.valid_to > ${params.time(filter.asOf)}, false))`);
  }
  if (!filter) return parts.join(' AND ');
  if (filter.asOf) parts.push(`${m}.created_at <= ${params.time(filter.asOf)}`);

  const scope = filter.scope;
  if (scope?.userId !== undefined) parts.push(`${m}.user_id = ${params.add(scope.userId)}`);
  if (scope?.agentId !== undefined) parts.push(`${m}.agent_id = ${params.add(scope.agentId)}`);
  if (scope?.runId !== undefined) parts.push(`${m}.run_id = ${params.add(scope.runId)}`);
  if (filter.conversationId !== undefined) parts.push(`${m}.conversation_id = ${params.add(filter.conversationId)}`);
  if (filter.types || filter.subtypes) {
    // Types and subtypes are OR-ed; a NULL subtype is in no list. Empty lists match nothing.
    const kinds: string[] = [];
    if (filter.types && filter.types.length > 0) kinds.push(`${m}.type = ANY(${params.textArray(filter.types)})`);
    if (filter.subtypes && filter.subtypes.length > 0)
      kinds.push(`coalesce(${m}.subtype = ANY(${params.textArray(filter.subtypes)}), false)`);
    parts.push(kinds.length === 0 ? 'false' : `(${kinds.join(' OR ')})`);
  }
  const anyTags = filter.tags?.any;
  if (anyTags && anyTags.length > 0) parts.push(`${m}.tags && ${params.textArray(anyTags)}`);
  const allTags = filter.tags?.all;
  if (allTags && allTags.length > 0) parts.push(`${m}.tags @> ${params.textArray(allTags)}`);
  if (filter.after) parts.push(`${m}.created_at >= ${params.time(filter.after)}`);
  if (filter.before) parts.push(`${m}.created_at < ${params.time(filter.before)}`);
  if (filter.ids) parts.push(filter.ids.length > 0 ? `${m}.id = ANY(${params.textArray(filter.ids)})` : 'false');
  if (filter.where) parts.push(compileCondition(filter.where, `${m}.metadata`, params));
  return parts.length > 0 ? parts.join(' AND ') : 'true';
}

/** Compiles a metadata `Condition` against a `jsonb` column (semantics in `Condition`'s docs). */
export function compileCondition(condition: Condition, column: string, params: SqlParameters): string {
  switch (condition.kind) {
    case 'and':
    case 'or': {
      if (condition.conditions.length === 0) return condition.kind === 'and' ? 'true' : 'false';
      const parts = condition.conditions.map((child) => compileCondition(child, column, params));
      return `(${parts.join(condition.kind === 'and' ? ' AND ' : ' OR ')})`;
    }
    case 'not':
      return `(NOT ${compileCondition(condition.condition, column, params)})`;
    case 'compare':
      return compileComparison(condition, column, params);
  }
}

type Comparison = Extract<Condition, { kind: 'compare' }>;

/** The SQL of the compared metadata field (adds its path parameters on first call). */
type Field = () => string;

function compileComparison(condition: Comparison, column: string, params: SqlParameters): string {
  // `jsonb -> text` walks object keys only (never array indexes, like core's resolvePath) and
  // yields SQL NULL for a missing key, JSON null for a present null. Built on first use: a
  // comparison that compiles to a constant must not leave unused (untyped) parameters behind.
  let path: string | undefined;
  const field = () => {
    path ??= `(${column}${condition.path.map((segment) => ` -> ${params.add(segment)}::text`).join('')})`;
    return path;
  };
  switch (condition.operator) {
    case 'exists':
      return condition.value ? `(${field()} IS NOT NULL)` : `(${field()} IS NULL)`;
    case 'eq':
      return equals(column, field, condition.path, condition.value, params);
    case 'ne':
      return `(NOT ${equals(column, field, condition.path, condition.value, params)})`;
    case 'in':
      return isOneOf(field, condition.value, params);
    case 'nin':
      return `(NOT ${isOneOf(field, condition.value, params)})`;
    case 'gt':
      return ordered(field, '>', condition.value, params);
    case 'gte':
      return ordered(field, '>=', condition.value, params);
    case 'lt':
      return ordered(field, '<', condition.value, params);
    case 'lte':
      return ordered(field, '<=', condition.value, params);
    case 'contains':
      return contains(field, condition.value, params);
  }
}

/**
 * JSON equality of the same JSON type (`1` never equals `"1"`): jsonb `=` compares type and
 * value, numbers numerically. The containment test in front is implied by the equality and lets
 * the planner use the GIN index on metadata.
 */
function equals(column: string, field: Field, path: string[], expected: ConditionValue, params: SqlParameters): string {
  const document = path.reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), expected);
  return `(${column} @> ${params.json(document)} AND coalesce(${field()} = ${params.json(expected)}, false))`;
}

function isOneOf(field: Field, expected: ConditionValue[], params: SqlParameters): string {
  if (expected.length === 0) return 'false';
  return `coalesce(${field()} IN (SELECT jsonb_array_elements(${params.json(expected)})), false)`;
}

/**
 * Numbers compare numerically, strings by code point (COLLATE "C"); any other JSON type never
 * matches. CASE guarantees the cast only runs on a value of the right type.
 */
function ordered(field: Field, operator: '>' | '>=' | '<' | '<=', expected: ConditionValue, params: SqlParameters): string {
  if (typeof expected === 'number') {
    const value = field();
    return `(CASE WHEN jsonb_typeof(${value}) = 'number' THEN (${value})::numeric ${operator} ${params.add(String(expected))}::numeric ELSE false END)`;
  }
  if (typeof expected === 'string') {
    const value = field();
    return `(CASE WHEN jsonb_typeof(${value}) = 'string' THEN (${value} #>> '{}') COLLATE "C" ${operator} ${params.add(expected)}::text ELSE false END)`;
  }
  return 'false';
}

/** An array element equal to the value, or (for a string value) a case-sensitive substring. */
function contains(field: Field, expected: ConditionValue, params: SqlParameters): string {
  const value = field();
  const element = `EXISTS (SELECT 1 FROM jsonb_array_elements(${value}) AS element(value) WHERE element.value = ${params.json(expected)})`;
  // strpos is case-sensitive; an empty needle matches, like String#includes.
  const substring = typeof expected === 'string' ? `strpos(${value} #>> '{}', ${params.add(expected)}::text) > 0` : 'false';
  return `(CASE jsonb_typeof(${value}) WHEN 'array' THEN ${element} WHEN 'string' THEN ${substring} ELSE false END)`;
}
