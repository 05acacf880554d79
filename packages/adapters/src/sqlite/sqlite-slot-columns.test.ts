import { describe, expect, it } from 'vitest';
import { SlotColumns } from './sqlite-slot-columns.js';

/** A row as `slotFieldColumns` reads it: user, agent, run, conversation, type, subtype, createdAt, superseded, validTo. */
const row = (user: string, type = 'fact') => [user, null, null, null, type, null, 1_733_000_000_000, 0, null];

describe('slot columns keep interned ids in the narrowest array', () => {
  it('start as bytes and widen to two, then four bytes as larger ids are written, keeping every value', () => {
    const columns = new SlotColumns(4);
    columns.set(0, 1, row('first'), 0);
    expect(columns.user).toBeInstanceOf(Uint8Array);
    expect(columns.agent).toBeInstanceOf(Uint8Array);
    // Ids are handed out in order of first sight: writing 70,000 users takes the user column past 255, then 65,535.
    for (let index = 0; index < 70_000; index++) {
      const slot = 1 + (index % 3);
      columns.set(slot, index + 2, row(`user ${index}`), 0);
      if (index === 300) expect(columns.user).toBeInstanceOf(Uint16Array);
    }
    expect(columns.user).toBeInstanceOf(Int32Array);
    expect(columns.type).toBeInstanceOf(Uint8Array);
    expect(columns.user[0]).toBe(columns.idOf('first'));
    expect(columns.user[1]).toBe(columns.idOf('user 69999'));
    expect(columns.idOf('user 69999')).toBeGreaterThan(0xffff);
    expect(columns.user[2]).toBe(columns.idOf('user 69997'));
    expect(columns.type[1]).toBe(columns.idOf('fact'));
    expect(Array.from(columns.rowids)).toEqual([1, 70_001, 69_999, 70_000]);

    // Growing and moving keep the widened kind.
    columns.grow(8, 4);
    expect(columns.user).toBeInstanceOf(Int32Array);
    columns.move(1, 5);
    expect(columns.user[5]).toBe(columns.idOf('user 69999'));
    const exported = columns.exportState(4);
    expect(exported.arrays.user).toBeInstanceOf(Int32Array);
    expect(Array.from(exported.arrays.user as Int32Array)).toEqual(Array.from(columns.user.subarray(0, 4)));
    expect(exported.arrays.agent).toBeUndefined();
  });

  it('make no validTo column while every validTo is null, and keep NaN for null once one is set', () => {
    const columns = new SlotColumns(4);
    columns.set(0, 1, row('a'), 0);
    const exported = columns.exportState(1);
    expect(Array.from(exported.arrays.validTo as Float64Array)).toEqual([Number.NaN]);
    const withValidTo = ['a', null, null, null, 'fact', null, 1, 1, 1_800_000_000_000];
    columns.set(1, 2, withValidTo, 0);
    columns.set(2, 3, row('b'), 0);
    expect(Array.from(columns.validTo.subarray(0, 3))).toEqual([Number.NaN, 1_800_000_000_000, Number.NaN]);
    columns.move(1, 3);
    expect(columns.validTo[3]).toBe(1_800_000_000_000);
    const fresh = new SlotColumns(2);
    expect(Array.from(fresh.validTo)).toEqual([Number.NaN, Number.NaN]);
  });
});
