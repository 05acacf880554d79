import type { MemoryRecord, SearchHit } from '@engram/core';

const dayMs = 86_400_000;
/** "YYYY-MM-DDT" of the days written lately (a response's dates fall on a few days). */
const dayPrefixes = new Map<number, string>();

const twoDigits = (value: number): string => (value < 10 ? `0${value}` : `${value}`);

/**
 * A time as `Date.prototype.toJSON` writes it (ISO 8601, UTC, milliseconds), about five times
 * faster: V8's `toISOString` costs ~1 µs, and a search response's ten records carry ~50 dates —
 * half the cost of its JSON. The date part is cached per day; the time of day is arithmetic.
 */
export function isoTime(date: Date): string | null {
  const milliseconds = date.getTime();
  if (!Number.isFinite(milliseconds)) return null;
  const day = Math.floor(milliseconds / dayMs);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    const text = new Date(day * dayMs).toISOString();
    prefix = text.slice(0, text.indexOf('T') + 1);
    if (dayPrefixes.size >= 4096) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  let rest = milliseconds - day * dayMs;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${prefix}${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}.${millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : millis}Z`;
}

/** A memory record with its dates already written as JSON text; `JSON.stringify` gives the same bytes as for the record. */
export function recordForJson(record: MemoryRecord): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in record) {
    const value = (record as unknown as Record<string, unknown>)[key];
    copy[key] = value instanceof Date ? isoTime(value) : value;
  }
  return copy;
}

/** Search hits whose records' dates are already JSON text (see `recordForJson`). */
export function hitsForJson(hits: SearchHit[]): Array<Omit<SearchHit, 'memory'> & { memory: Record<string, unknown> }> {
  return hits.map((hit) => ({ ...hit, memory: recordForJson(hit.memory) }));
}
