import type { ComparisonOperator, Condition, ConditionValue } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';

/**
 * The `where` syntax callers write:
 *   { priority: { gt: 3 }, status: 'open', 'owner.team': { in: ['core', 'infra'] },
 *     or: [{ urgent: true }, { due: { lt: '2025-01-01' } }], not: { archived: true } }
 * A bare value means `eq`; several keys (or several operators on one key) are AND-ed; a dotted
 * key walks into nested metadata. `and`, `or` and `not` are reserved keys.
 */
export type WhereValue = string | number | boolean | null | Date;
export type WhereOperators = {
  eq?: WhereValue;
  ne?: WhereValue;
  gt?: WhereValue;
  gte?: WhereValue;
  lt?: WhereValue;
  lte?: WhereValue;
  in?: WhereValue[];
  nin?: WhereValue[];
  contains?: WhereValue;
  exists?: boolean;
};
export type Where = {
  and?: Where[];
  or?: Where[];
  not?: Where;
  [field: string]: WhereValue | WhereOperators | Where[] | Where | undefined;
};

const operators = new Set<ComparisonOperator>(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'exists']);
const MAX_DEPTH = 16;
const MAX_CONDITIONS = 256;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function fail(field: string, message: string): never {
  throw new ValidationError([{ field, message }]);
}

function scalar(value: unknown, field: string): ConditionValue {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) fail(field, 'is an invalid Date');
    return value.toISOString();
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(field, 'must be a finite number');
    return value;
  }
  return fail(field, `must be a string, number, boolean, null or Date (got ${Array.isArray(value) ? 'an array' : typeof value})`);
}

function parsePath(key: string, field: string): string[] {
  const path = key.split('.');
  if (path.some((segment) => segment.length === 0 || segment.includes('"') || segment.length > 128)) {
    fail(field, 'metadata field names are dot-separated, non-empty, at most 128 characters each and contain no double quotes');
  }
  return path;
}

/** Validates a caller's `where` and turns it into the normalised `Condition` stores evaluate. */
export function parseWhere(where: unknown, field = 'where'): Condition {
  let count = 0;
  const visit = (node: unknown, at: string, depth: number): Condition => {
    if (depth > MAX_DEPTH) fail(at, `nests deeper than ${MAX_DEPTH} levels`);
    if (!isPlainObject(node)) fail(at, 'must be an object such as { priority: { gt: 3 } }');
    const conditions: Condition[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (value === undefined) continue;
      const here = `${at}.${key}`;
      if (key === 'and' || key === 'or') {
        if (!Array.isArray(value) || value.length === 0) fail(here, 'must be a non-empty array of conditions');
        const children = value.map((child, index) => visit(child, `${here}.${index}`, depth + 1));
        conditions.push({ kind: key, conditions: children });
        continue;
      }
      if (key === 'not') {
        conditions.push({ kind: 'not', condition: visit(value, here, depth + 1) });
        continue;
      }
      const path = parsePath(key, here);
      if (!isPlainObject(value)) {
        if (Array.isArray(value)) fail(here, 'an array is not a value: use { in: [...] } or { contains: x }');
        conditions.push({ kind: 'compare', path, operator: 'eq', value: scalar(value, here) });
        count += 1;
        continue;
      }
      const entries = Object.entries(value).filter(([, operand]) => operand !== undefined);
      if (entries.length === 0) fail(here, 'needs at least one operator (eq, ne, in, nin, gt, gte, lt, lte, contains, exists)');
      for (const [operator, operand] of entries) {
        const opField = `${here}.${operator}`;
        if (!operators.has(operator as ComparisonOperator)) {
          fail(
            opField,
            `unknown operator "${operator}". Use eq, ne, in, nin, gt, gte, lt, lte, contains or exists (nested objects are addressed with dotted keys: 'a.b')`,
          );
        }
        count += 1;
        if (operator === 'in' || operator === 'nin') {
          if (!Array.isArray(operand)) fail(opField, 'must be an array of values');
          if (operand.length > 1000) fail(opField, 'may hold at most 1000 values');
          conditions.push({ kind: 'compare', path, operator, value: operand.map((item, index) => scalar(item, `${opField}.${index}`)) });
        } else if (operator === 'exists') {
          if (typeof operand !== 'boolean') fail(opField, 'must be true or false');
          conditions.push({ kind: 'compare', path, operator, value: operand });
        } else {
          const parsed = scalar(operand, opField);
          if (
            (operator === 'gt' || operator === 'gte' || operator === 'lt' || operator === 'lte') &&
            typeof parsed !== 'number' &&
            typeof parsed !== 'string'
          ) {
            fail(opField, 'compares numbers or strings (ISO dates) only');
          }
          conditions.push({ kind: 'compare', path, operator: operator as 'eq', value: parsed });
        }
      }
    }
    if (count > MAX_CONDITIONS) fail(at, `has more than ${MAX_CONDITIONS} comparisons`);
    if (conditions.length === 0) fail(at, 'is empty: give at least one condition or leave it out');
    return conditions.length === 1 ? (conditions[0] as Condition) : { kind: 'and', conditions };
  };
  return visit(where, field, 0);
}
