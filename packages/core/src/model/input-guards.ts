import { ValidationError, type ValidationIssue } from './errors.js';

/**
 * Guards every call input passes before its zod schema (found by fuzzing, issue 17):
 * ill-formed UTF-16 (a lone surrogate would be silently replaced by U+FFFD when stored), and the
 * key `__proto__` (which plain objects treat specially, so it never round-trips as data).
 */

/** A printable description of any value, for error messages: never throws (BigInt, Symbol, cycles). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
    case 'bigint':
      return `${value}n (a BigInt)`;
    case 'symbol':
      return `${value.toString()} (a Symbol)`;
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return String(value);
  }
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string has a lone surrogate (cannot be encoded as UTF-8 without loss). */
export function isIllFormed(text: string): boolean {
  return loneSurrogate.test(text);
}

function join(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

/**
 * The first problem in an input: a string (or object key) with a lone surrogate, or a `__proto__`
 * key, anywhere inside it. Walks plain objects and arrays; cycles are left to the schema.
 */
export function findInputProblem(input: unknown, root: string): ValidationIssue | undefined {
  const seen = new Set<object>();
  const visit = (value: unknown, path: string, depth: number): ValidationIssue | undefined => {
    if (typeof value === 'string') {
      return isIllFormed(value)
        ? {
            field: path || '(input)',
            message: 'contains a lone UTF-16 surrogate (ill-formed text that cannot be stored faithfully): fix the encoding of the text',
          }
        : undefined;
    }
    if (typeof value !== 'object' || value === null || depth > 64 || seen.has(value)) return undefined;
    if (value instanceof Date) return undefined;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const problem = visit(value[index], join(path, index), depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        return { field: join(path, key), message: 'is not allowed as a key (it is the object prototype): rename it' };
      }
      if (isIllFormed(key)) {
        return { field: path || '(input)', message: `has a key with a lone UTF-16 surrogate (${JSON.stringify(key)}): fix its encoding` };
      }
      const problem = visit((value as Record<string, unknown>)[key], join(path, key), depth + 1);
      if (problem) return problem;
    }
    return undefined;
  };
  return visit(input, root, 0);
}

/** Throws a ValidationError naming the field when `findInputProblem` finds one. */
export function guardInput(input: unknown, root: string): void {
  const problem = findInputProblem(input, root);
  if (problem) throw new ValidationError([problem]);
}

export interface MetadataLimits {
  /** Largest metadata object, in bytes of its JSON. Default 65,536 (64 KiB). */
  maxBytes?: number;
  /** Most keys, counted at every level of nesting. Default 1,000. */
  maxKeys?: number;
  /** Deepest nesting of objects and arrays (a flat object is depth 1). Default 10. */
  maxDepth?: number;
}

export type ResolvedMetadataLimits = Required<MetadataLimits>;

export const DEFAULT_METADATA_LIMITS: ResolvedMetadataLimits = { maxBytes: 65_536, maxKeys: 1_000, maxDepth: 10 };

export function resolveMetadataLimits(options: MetadataLimits | undefined): ResolvedMetadataLimits {
  if (options === undefined) return DEFAULT_METADATA_LIMITS;
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError([{ field: 'metadataLimits', message: 'must be an object like { maxBytes, maxKeys, maxDepth }' }]);
  }
  const resolved = { ...DEFAULT_METADATA_LIMITS };
  for (const name of ['maxBytes', 'maxKeys', 'maxDepth'] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new ValidationError([{ field: `metadataLimits.${name}`, message: `must be a positive integer (got ${describeValue(value)})` }]);
    }
    resolved[name] = value;
  }
  return resolved;
}

/** Checks metadata (already known to be JSON-serialisable) against the limits; errors name `field`. */
export function checkMetadata(metadata: Record<string, unknown> | undefined, field: string, limits: ResolvedMetadataLimits): void {
  if (metadata === undefined) return;
  let keys = 0;
  let deepest = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null) return;
    deepest = Math.max(deepest, depth);
    if (deepest > limits.maxDepth) return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
      return;
    }
    for (const [, item] of Object.entries(value)) {
      keys += 1;
      if (keys > limits.maxKeys) return;
      walk(item, depth + 1);
    }
  };
  walk(metadata, 1);
  if (deepest > limits.maxDepth) {
    throw new ValidationError([
      { field, message: `is nested more than ${limits.maxDepth} levels deep: flatten it, or raise metadataLimits.maxDepth` },
    ]);
  }
  if (keys > limits.maxKeys) {
    throw new ValidationError([
      { field, message: `has more than ${limits.maxKeys} keys: keep metadata small, or raise metadataLimits.maxKeys` },
    ]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > limits.maxBytes) {
    throw new ValidationError([
      {
        field,
        message: `is ${bytes} bytes of JSON, over the ${limits.maxBytes}-byte limit: store large data elsewhere and keep a reference, or raise metadataLimits.maxBytes`,
      },
    ]);
  }
}
