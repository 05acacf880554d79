/** A value bound to a `$n` placeholder. Dates and JSON are turned into text first (see the helpers). */
export type SqlValue = string | number | boolean | null | string[];

/**
 * The bound values of one statement. `add` returns the placeholder (`$1`, `$2`…) for a value, so
 * fragments can be composed in any order and still number their parameters correctly.
 */
export class SqlParameters {
  readonly values: SqlValue[] = [];

  add(value: SqlValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** A JSON document bound as one `jsonb` parameter. */
  json(value: unknown): string {
    return `${this.add(JSON.stringify(value))}::jsonb`;
  }

  /** A list of strings bound as one `text[]` parameter (the SQL text does not depend on its length). */
  textArray(values: readonly string[]): string {
    return `${this.add([...values])}::text[]`;
  }

  /** A timestamp bound as an ISO 8601 string (exact to the millisecond, whatever the session time zone). */
  time(value: Date | null): string {
    return `${this.add(value ? value.toISOString() : null)}::timestamptz`;
  }
}

const simpleIdentifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** True for a lower-case SQL identifier that needs no quoting games (the allowed schema names). */
export function isSimpleIdentifier(name: string): boolean {
  return simpleIdentifier.test(name);
}

/** A double-quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Milliseconds since the epoch of a `timestamptz` column, as float8 (exact for millisecond values). */
export function epochMs(column: string): string {
  return `(extract(epoch FROM ${column}) * 1000)::float8`;
}
