import type { MemoryFilter } from '@engram/core';
import type { IdColumn } from './sqlite-slot-columns.js';
import { slotDead, slotSuperseded } from './sqlite-vector-kernel.js';

/** The filterable fields the vector cache holds for each slot (strings interned as ids, 0 = null). */
export interface SlotFields {
  readonly user: IdColumn;
  readonly agent: IdColumn;
  readonly run: IdColumn;
  readonly conversation: IdColumn;
  readonly type: IdColumn;
  readonly subtype: IdColumn;
  readonly createdAt: Float64Array;
  /** NaN when null. */
  readonly validTo: Float64Array;
  /** Mask bits per slot (`slotDead`, `slotSuperseded`). */
  readonly mask: Uint8Array;
  /** The interned id of a string, or undefined when no slot holds it. */
  idOf(value: string): number | undefined;
}

/**
 * How a vector search applies a `MemoryFilter`:
 * - `none`: nothing can match (empty `types`/`subtypes`/`ids`, or a value no vector has);
 * - `mask`: only the slot mask matters (deleted, and superseded unless included);
 * - `slots`: the mask, then equalities (`column[slot] === id`: scope and conversation, the
 *   cheap and usually selective part) and `test(slot)` (types/subtypes, time window, `asOf`)
 *   over the cached fields — all decided in memory;
 * - `sql`: an `ids` list: the matching rows come from one SQL query with the complete filter.
 * `residual` marks a filter with a part the cache does not hold (tags, `where`): candidates must
 * also pass the complete filter in SQL (see `SqliteVectorIndex`).
 * In every case the filter selects the candidates *before* any ranking. A `test` reads the
 * cache's arrays as they are now: use it before the cache next changes.
 */
export type SlotFilter =
  | { kind: 'none' }
  | { kind: 'mask'; flags: number; residual: boolean }
  | {
      kind: 'slots';
      flags: number;
      equal: Array<{ column: IdColumn; id: number }>;
      test: ((slot: number) => boolean) | undefined;
      residual: boolean;
    }
  | { kind: 'sql' };

export function slotFilter(filter: MemoryFilter | undefined, fields: SlotFields): SlotFilter {
  if (!filter) return { kind: 'mask', flags: slotDead | slotSuperseded, residual: false };
  if (filter.ids?.length === 0) return { kind: 'none' };
  if (filter.ids !== undefined) return { kind: 'sql' };
  const anyTags = filter.tags?.any !== undefined && filter.tags.any.length > 0;
  const allTags = filter.tags?.all !== undefined && filter.tags.all.length > 0;
  const residual = anyTags || allTags || filter.where !== undefined;

  const tests: Array<(slot: number) => boolean> = [];
  const equal: Array<{ column: IdColumn; id: number }> = [];
  const equals = (column: IdColumn, value: string | undefined): boolean => {
    if (value === undefined) return true;
    const id = fields.idOf(value);
    if (id === undefined) return false;
    equal.push({ column, id });
    return true;
  };
  if (
    !equals(fields.user, filter.scope?.userId) ||
    !equals(fields.agent, filter.scope?.agentId) ||
    !equals(fields.run, filter.scope?.runId) ||
    !equals(fields.conversation, filter.conversationId)
  ) {
    return { kind: 'none' };
  }
  if (filter.types || filter.subtypes) {
    // Types and subtypes are OR-ed; values no slot holds simply match nothing.
    const types = new Set((filter.types ?? []).map((type) => fields.idOf(type)).filter((id) => id !== undefined));
    const subtypes = new Set((filter.subtypes ?? []).map((subtype) => fields.idOf(subtype)).filter((id) => id !== undefined));
    if (types.size === 0 && subtypes.size === 0) return { kind: 'none' };
    const { type, subtype } = fields;
    tests.push((slot) => types.has(type[slot] as number) || subtypes.has(subtype[slot] as number));
  }
  const after = filter.after?.getTime();
  const { createdAt } = fields;
  if (after !== undefined) tests.push((slot) => (createdAt[slot] as number) >= after);
  const before = filter.before?.getTime();
  if (before !== undefined) tests.push((slot) => (createdAt[slot] as number) < before);

  let flags = slotDead | slotSuperseded;
  const asOf = filter.asOf?.getTime();
  if (filter.includeSuperseded) flags = slotDead;
  if (asOf !== undefined) {
    tests.push((slot) => (createdAt[slot] as number) <= asOf);
    if (!filter.includeSuperseded) {
      // As of an instant, a supersession that happened later (validTo after it) is undone;
      // superseded slots therefore pass the mask and are decided here (NaN > asOf is false).
      flags = slotDead;
      const { mask, validTo } = fields;
      tests.push((slot) => ((mask[slot] as number) & slotSuperseded) === 0 || (validTo[slot] as number) > asOf);
    }
  }
  if (tests.length === 0 && equal.length === 0) return { kind: 'mask', flags, residual };
  const test = tests.length <= 1 ? tests[0] : (slot: number) => tests.every((check) => check(slot));
  return { kind: 'slots', flags, equal, test, residual };
}
