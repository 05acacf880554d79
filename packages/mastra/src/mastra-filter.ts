import { type Condition, type ConditionValue, ValidationError } from '@engram/core';

const MAX_DEPTH = 32;
const MAX_COMPARISONS = 1024;

const unsupported = new Set(['$regex', '$options', '$elemMatch', '$size']);

function fail(field: string, message: string): never {
  throw new ValidationError([{ field, message }]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof RegExp);
}

/** True for `undefined`, `null` and `{}`: no filter. */
export function isEmptyFilter(filter: unknown): boolean {
  return filter === undefined || filter === null || (isPlainObject(filter) && Object.keys(filter).length === 0);
}

/**
 * Mastra's vector filter (MongoDB-style: `{ price: { $gt: 10 }, $or: [...] }`) as Engram's
 * `Condition`, which every collection adapter evaluates inside its query.
 *
 * Supported: `$eq $ne $gt $gte $lt $lte $in $nin $all $exists $contains $not` on fields (dotted
 * keys and nested objects walk into the metadata), `$and $or $nor $not` as logical operators.
 * As in Mastra's stores, `$in` / `$nin` also look inside array fields (`{ tags: { $in: ['sale'] } }`
 * matches `tags: ['new', 'sale']`) and `$all` needs an array field holding every value.
 * `$regex`, `$options`, `$elemMatch` and `$size` are rejected with a ValidationError naming them.
 *
 * Answers undefined for an empty filter.
 */
export function translateFilter(filter: unknown, field = 'filter'): Condition | undefined {
  if (isEmptyFilter(filter)) return undefined;
  let comparisons = 0;
  const count = (at: string) => {
    comparisons += 1;
    if (comparisons > MAX_COMPARISONS) fail(at, `has more than ${MAX_COMPARISONS} comparisons`);
  };

  const scalar = (value: unknown, at: string): ConditionValue => {
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) fail(at, 'is an invalid Date');
      return value.toISOString();
    }
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    return fail(at, `must be a string, finite number, boolean, null or Date (got ${Array.isArray(value) ? 'an array' : String(value)})`);
  };

  const list = (value: unknown, at: string): ConditionValue[] => {
    if (!Array.isArray(value)) fail(at, 'must be an array of values');
    return value.map((item, index) => scalar(item, `${at}.${index}`));
  };

  const compare = (path: string[], operator: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains', value: ConditionValue): Condition => ({
    kind: 'compare',
    path,
    operator,
    value,
  });

  /** The field holds an array containing `value` (a string holding it as a substring does not count). */
  const arrayContains = (path: string[], value: ConditionValue): Condition => ({
    kind: 'and',
    // Every string is >= '', so "not >= ''" excludes strings, whose `contains` is a substring test.
    conditions: [compare(path, 'contains', value), { kind: 'not', condition: compare(path, 'gte', '') }],
  });

  const oneOf = (path: string[], values: ConditionValue[]): Condition => ({
    kind: 'or',
    conditions: [{ kind: 'compare', path, operator: 'in', value: values }, ...values.map((value) => arrayContains(path, value))],
  });

  const fieldOperators = (path: string[], operators: Record<string, unknown>, at: string, depth: number): Condition[] => {
    const conditions: Condition[] = [];
    for (const [operator, operand] of Object.entries(operators)) {
      const here = `${at}.${operator}`;
      if (operand === undefined) continue;
      count(here);
      switch (operator) {
        case '$eq':
        case '$ne':
          conditions.push(compare(path, operator === '$eq' ? 'eq' : 'ne', scalar(operand, here)));
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte': {
          const value = scalar(operand, here);
          if (typeof value !== 'number' && typeof value !== 'string') fail(here, 'compares numbers, strings or Dates only');
          conditions.push(compare(path, operator.slice(1) as 'gt', value));
          break;
        }
        case '$in':
          conditions.push(oneOf(path, list(operand, here)));
          break;
        case '$nin':
          conditions.push({ kind: 'not', condition: oneOf(path, list(operand, here)) });
          break;
        case '$all': {
          const values = list(operand, here);
          // An empty $all matches nothing, as in MongoDB.
          conditions.push(
            values.length === 0
              ? { kind: 'or', conditions: [] }
              : { kind: 'and', conditions: values.map((value) => arrayContains(path, value)) },
          );
          break;
        }
        case '$contains': {
          const values = Array.isArray(operand) ? list(operand, here) : [scalar(operand, here)];
          conditions.push({ kind: 'and', conditions: values.map((value) => compare(path, 'contains', value)) });
          break;
        }
        case '$exists':
          if (typeof operand !== 'boolean') fail(here, 'must be true or false');
          conditions.push({ kind: 'compare', path, operator: 'exists', value: operand });
          break;
        case '$not': {
          if (!isPlainObject(operand) || Object.keys(operand).length === 0) {
            fail(here, 'must be a non-empty object of operators, such as { $gt: 5 } (regular expressions are not supported)');
          }
          conditions.push({ kind: 'not', condition: all(fieldValue(path, operand, here, depth + 1)) });
          break;
        }
        default:
          if (unsupported.has(operator))
            fail(here, `${operator} is not supported by EngramVector; filter on exact values, ranges, $in or $contains`);
          fail(here, `unknown operator "${operator}"`);
      }
    }
    return conditions;
  };

  /** A field's filter value: a bare value (equality), an operator object, or a nested object. */
  const fieldValue = (path: string[], value: unknown, at: string, depth: number): Condition[] => {
    if (depth > MAX_DEPTH) fail(at, `nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) fail(at, 'an array is not a value to compare: use { $in: [...] } or { $all: [...] }');
    if (value instanceof RegExp) fail(at, 'regular expressions are not supported by EngramVector');
    if (!isPlainObject(value)) {
      count(at);
      return [compare(path, 'eq', scalar(value, at))];
    }
    const keys = Object.keys(value);
    if (keys.length === 0) fail(at, 'is an empty object: give a value or an operator such as { $eq: 1 }');
    const operatorKeys = keys.filter((key) => key.startsWith('$'));
    if (operatorKeys.length === keys.length) return fieldOperators(path, value, at, depth);
    if (operatorKeys.length > 0) fail(at, 'mixes operators ($…) with nested field names: split them with $and');
    return keys.flatMap((key) => fieldValue([...path, ...segments(key, `${at}.${key}`)], value[key], `${at}.${key}`, depth + 1));
  };

  const segments = (key: string, at: string): string[] => {
    const path = key.split('.');
    if (path.some((segment) => segment.length === 0 || segment.length > 128)) fail(at, 'field names are dot-separated and non-empty');
    return path;
  };

  const node = (value: unknown, at: string, depth: number): Condition[] => {
    if (depth > MAX_DEPTH) fail(at, `nests deeper than ${MAX_DEPTH} levels`);
    if (!isPlainObject(value)) fail(at, 'must be an object such as { category: "books" }');
    const conditions: Condition[] = [];
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      const here = `${at}.${key}`;
      if (key === '$and' || key === '$or' || key === '$nor') {
        if (!Array.isArray(child)) fail(here, `must be an array of filters`);
        const branches = child.map((branch, index) => all(node(branch, `${here}.${index}`, depth + 1)));
        if (key === '$and') conditions.push({ kind: 'and', conditions: branches });
        else if (key === '$or') conditions.push({ kind: 'or', conditions: branches });
        else conditions.push({ kind: 'not', condition: { kind: 'or', conditions: branches } });
      } else if (key === '$not') {
        if (!isPlainObject(child) || Object.keys(child).length === 0) fail(here, 'must be a non-empty filter object');
        conditions.push({ kind: 'not', condition: all(node(child, here, depth + 1)) });
      } else if (key.startsWith('$')) {
        fail(here, `${key} cannot stand at the top of a filter: put it under a field, e.g. { price: { ${key}: … } }`);
      } else {
        conditions.push(...fieldValue(segments(key, here), child, here, depth + 1));
      }
    }
    return conditions;
  };

  return all(node(filter, field, 0));
}

function all(conditions: Condition[]): Condition {
  return conditions.length === 1 ? (conditions[0] as Condition) : { kind: 'and', conditions };
}
