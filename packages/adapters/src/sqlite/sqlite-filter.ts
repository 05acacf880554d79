import type { Condition, ConditionValue, MemoryFilter } from '@engram/core';
import { taggedRowidsSql } from './sqlite-records.js';

/** A SQL boolean expression and its bound parameters, in order. */
export interface SqlFragment {
  sql: string;
  params: SqlParameter[];
}

/** What better-sqlite3 binds. Booleans are never bound (the driver rejects them): they become SQL. */
export type SqlParameter = string | number | bigint | Buffer | null;

export interface CompileFilterOptions {
  /** Alias of the `memories` table in the surrounding query. Default 'm'. */
  alias?: string;
  /** Also match soft-deleted rows (list's `includeDeleted`). Default false. */
  includeDeleted?: boolean;
  /**
   * The query checks a given list of rows (candidates by rowid) rather than finding the rows:
   * `tags.all` is then checked on each row's own entries (one seek of `memory_tags`' rowid-major
   * key each) instead of grouping every memory that carries one of the tags. `tags.any` still
   * collects the memories with the tags once a statement: a seek a candidate costs more than that
   * when the tags are rare and the candidates many (tag-filtered search at 1M, rarest tag: +15–26 ms
   * of CPU a search with per-row checks). Default false.
   */
  candidates?: boolean;
}

/**
 * Compiles a `MemoryFilter` to a WHERE expression over the `memories` table that agrees exactly
 * with core's `matchesFilter` (the reference semantics), so filters run inside each query,
 * before any LIMIT.
 *
 * Every compiled expression is two-valued (0 or 1, never NULL), so `NOT` and `ne`/`nin` behave
 * like the JavaScript reference on missing fields. Lists are bound as one JSON parameter read
 * with `json_each`, so the SQL text depends only on the filter's shape and prepared statements
 * can be reused.
 */
export function compileFilter(filter: MemoryFilter | undefined, options: CompileFilterOptions = {}): SqlFragment {
  const alias = options.alias ?? 'm';
  const builder = new FragmentBuilder();
  if (!options.includeDeleted) builder.add(`${alias}.deleted_at IS NULL`);
  const asOf = filter?.asOf?.getTime();
  if (!filter?.includeSuperseded) {
    // As of an instant, a supersession that happened later (validTo after it) is undone.
    if (asOf === undefined) builder.add(`${alias}.superseded_by IS NULL`);
    else builder.add(`(${alias}.superseded_by IS NULL OR (${alias}.valid_to IS NOT NULL AND ${alias}.valid_to > ?))`, asOf);
  }
  if (!filter) return builder.build();
  if (asOf !== undefined) builder.add(`${alias}.created_at <= ?`, asOf);

  const scope = filter.scope;
  if (scope?.userId !== undefined) builder.add(`${alias}.user_id = ?`, scope.userId);
  if (scope?.agentId !== undefined) builder.add(`${alias}.agent_id = ?`, scope.agentId);
  if (scope?.runId !== undefined) builder.add(`${alias}.run_id = ?`, scope.runId);
  if (filter.conversationId !== undefined) builder.add(`${alias}.conversation_id = ?`, filter.conversationId);
  if (filter.types || filter.subtypes) {
    // Types and subtypes are OR-ed; a NULL subtype is in no list. Empty lists match nothing.
    const kinds: SqlFragment[] = [];
    if (filter.types && filter.types.length > 0) kinds.push(inList(`${alias}.type`, filter.types));
    if (filter.subtypes && filter.subtypes.length > 0) kinds.push(inList(`${alias}.subtype`, filter.subtypes));
    const kind = any(kinds);
    builder.add(kind.sql, ...kind.params);
  }

  const anyTags = filter.tags?.any;
  if (anyTags && anyTags.length > 0) builder.add(`${alias}.rowid IN (${taggedRowidsSql})`, JSON.stringify(unique(anyTags)));
  const allTags = filter.tags?.all;
  if (allTags && allTags.length > 0) {
    const tags = unique(allTags);
    const ownTags = `SELECT count(*) FROM memory_tags t WHERE t.memory_rowid = ${alias}.rowid AND t.tag IN (SELECT value FROM json_each(?))`;
    if (options.candidates) builder.add(`(${ownTags}) = ?`, JSON.stringify(tags), tags.length);
    else {
      builder.add(
        `${alias}.rowid IN (SELECT memory_rowid FROM (${taggedRowidsSql}) GROUP BY memory_rowid HAVING count(*) = ?)`,
        JSON.stringify(tags),
        tags.length,
      );
    }
  }

  if (filter.after) builder.add(`${alias}.created_at >= ?`, filter.after.getTime());
  if (filter.before) builder.add(`${alias}.created_at < ?`, filter.before.getTime());
  if (filter.ids) {
    const list = filter.ids.length > 0 ? inList(`${alias}.id`, filter.ids) : { sql: '0', params: [] };
    builder.add(list.sql, ...list.params);
  }
  if (filter.where) {
    const condition = compileCondition(filter.where, `${alias}.metadata`);
    builder.add(condition.sql, ...condition.params);
  }
  return builder.build();
}

/** Compiles a metadata `Condition` against a JSON text column (see `Condition` for the semantics). */
export function compileCondition(condition: Condition, metadataColumn: string): SqlFragment {
  switch (condition.kind) {
    case 'and':
    case 'or': {
      if (condition.conditions.length === 0) return { sql: condition.kind === 'and' ? '1' : '0', params: [] };
      const parts = condition.conditions.map((child) => compileCondition(child, metadataColumn));
      return {
        sql: `(${parts.map((part) => part.sql).join(condition.kind === 'and' ? ' AND ' : ' OR ')})`,
        params: parts.flatMap((part) => part.params),
      };
    }
    case 'not': {
      const inner = compileCondition(condition.condition, metadataColumn);
      return { sql: `(NOT ${inner.sql})`, params: inner.params };
    }
    case 'compare':
      return compileComparison(condition, new JsonField(metadataColumn, jsonPath(condition.path)));
  }
}

type Comparison = Extract<Condition, { kind: 'compare' }>;

function compileComparison(condition: Comparison, field: JsonField): SqlFragment {
  switch (condition.operator) {
    case 'exists':
      return field.type(condition.value ? 'IS NOT NULL' : 'IS NULL');
    case 'eq':
      return field.equals(condition.value);
    case 'ne':
      return negate(field.equals(condition.value));
    case 'in':
      return field.isOneOf(condition.value);
    case 'nin':
      return negate(field.isOneOf(condition.value));
    case 'gt':
      return field.ordered('>', condition.value);
    case 'gte':
      return field.ordered('>=', condition.value);
    case 'lt':
      return field.ordered('<', condition.value);
    case 'lte':
      return field.ordered('<=', condition.value);
    case 'contains':
      return field.contains(condition.value);
  }
}

const numberTypes = "('integer','real')";

/**
 * One path inside a JSON column. `json_type` is NULL for a missing path and 'null' for a JSON
 * null, which is what tells "missing" from "present but null" apart; every test wraps it in
 * `ifnull(…, '')` or `IS`, so it stays two-valued.
 */
class JsonField {
  constructor(
    private readonly column: string,
    private readonly path: string,
  ) {}

  type(test: string): SqlFragment {
    return { sql: `(json_type(${this.column}, ?) ${test})`, params: [this.path] };
  }

  private typeIn(types: string): SqlFragment {
    return { sql: `ifnull(json_type(${this.column}, ?), '') IN ${types}`, params: [this.path] };
  }

  private typedTest(types: string, test: string, ...params: SqlParameter[]): SqlFragment {
    return {
      sql: `(ifnull(json_type(${this.column}, ?), '') IN ${types} AND json_extract(${this.column}, ?) ${test})`,
      params: [this.path, this.path, ...params],
    };
  }

  equals(value: ConditionValue): SqlFragment {
    if (value === null) return this.type("IS 'null'");
    if (typeof value === 'boolean') return this.type(value ? "IS 'true'" : "IS 'false'");
    if (typeof value === 'number') return this.typedTest(numberTypes, '= ?', value);
    return this.typedTest("('text')", '= ?', value);
  }

  isOneOf(values: ConditionValue[]): SqlFragment {
    const strings = values.filter((value): value is string => typeof value === 'string');
    const numbers = values.filter((value): value is number => typeof value === 'number');
    const jsonTypes = new Set<string>();
    for (const value of values) {
      if (value === null) jsonTypes.add('null');
      else if (value === true) jsonTypes.add('true');
      else if (value === false) jsonTypes.add('false');
    }
    const parts: SqlFragment[] = [];
    if (strings.length > 0) {
      parts.push(this.typedTest("('text')", 'IN (SELECT value FROM json_each(?))', JSON.stringify(unique(strings))));
    }
    if (numbers.length > 0) {
      parts.push(this.typedTest(numberTypes, 'IN (SELECT value FROM json_each(?))', JSON.stringify(unique(numbers))));
    }
    if (jsonTypes.size > 0) parts.push(this.typeIn(`(${[...jsonTypes].map((type) => `'${type}'`).join(',')})`));
    return any(parts);
  }

  ordered(operator: '>' | '>=' | '<' | '<=', value: ConditionValue): SqlFragment {
    // Numbers compare numerically, strings by binary (code point) order; other types never match.
    if (typeof value === 'number') return this.typedTest(numberTypes, `${operator} ?`, value);
    if (typeof value === 'string') return this.typedTest("('text')", `${operator} ?`, value);
    return { sql: '0', params: [] };
  }

  contains(value: ConditionValue): SqlFragment {
    const parts: SqlFragment[] = [];
    const element = elementEquals(value);
    parts.push({
      sql:
        `(ifnull(json_type(${this.column}, ?), '') = 'array' AND ` +
        `EXISTS (SELECT 1 FROM json_each(${this.column}, ?) AS element WHERE ${element.sql}))`,
      params: [this.path, this.path, ...element.params],
    });
    // instr is a case-sensitive substring test; an empty needle matches, like String#includes.
    if (typeof value === 'string') {
      parts.push({
        sql: `(ifnull(json_type(${this.column}, ?), '') = 'text' AND instr(json_extract(${this.column}, ?), ?) > 0)`,
        params: [this.path, this.path, value],
      });
    }
    return any(parts);
  }
}

/** Equality of one `json_each` element (columns `type`, `value`) with a JSON scalar. */
function elementEquals(value: ConditionValue): SqlFragment {
  if (value === null) return { sql: "element.type = 'null'", params: [] };
  if (typeof value === 'boolean') return { sql: `element.type = '${value ? 'true' : 'false'}'`, params: [] };
  if (typeof value === 'number') return { sql: `element.type IN ${numberTypes} AND element.value = ?`, params: [value] };
  return { sql: "element.type = 'text' AND element.value = ?", params: [value] };
}

/**
 * A SQLite JSON path for a list of object keys. Each key is double-quoted (with `\\` and `"`
 * escaped), so dots, brackets and spaces inside a key are literal; a key is never treated as an
 * array index (`resolvePath` in core does not index arrays either).
 */
export function jsonPath(path: readonly string[]): string {
  return `$${path.map((segment) => `."${segment.replace(/[\\"]/g, '\\$&')}"`).join('')}`;
}

function negate(fragment: SqlFragment): SqlFragment {
  return { sql: `(NOT ${fragment.sql})`, params: fragment.params };
}

function any(parts: SqlFragment[]): SqlFragment {
  if (parts.length === 0) return { sql: '0', params: [] };
  if (parts.length === 1 && parts[0]) return parts[0];
  return { sql: `(${parts.map((part) => part.sql).join(' OR ')})`, params: parts.flatMap((part) => part.params) };
}

/** `column IN values` for a non-empty list (one JSON parameter, so the SQL text ignores its length). */
function inList(column: string, values: readonly string[]): SqlFragment {
  if (values.length === 1) return { sql: `${column} = ?`, params: [values[0] as string] };
  return { sql: `${column} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(unique(values))] };
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

class FragmentBuilder {
  private readonly parts: string[] = [];
  private readonly params: SqlParameter[] = [];

  add(sql: string, ...params: SqlParameter[]): void {
    this.parts.push(sql);
    this.params.push(...params);
  }

  build(): SqlFragment {
    return { sql: this.parts.length > 0 ? this.parts.join(' AND ') : '1', params: this.params };
  }
}
