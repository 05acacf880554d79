import type { SnapshotFile } from './sqlite-snapshot.js';

/** The columns' names, in `SlotColumns.columns()` order (as snapshots store them). */
const columnNames = ['rowids', 'user', 'agent', 'run', 'conversation', 'type', 'subtype', 'createdAt', 'validTo'] as const;
/** The interned-string columns (`IdColumn`s). */
const idColumnNames = new Set<string>(['user', 'agent', 'run', 'conversation', 'type', 'subtype']);

/**
 * A column of interned string ids: the narrowest array that holds its ids. Most stores have
 * fewer than 256 users, types and subtypes, so a column takes a byte a slot (1 MB at 1M, not 4),
 * and a snapshot's bytes are its contents as read, with no widening pass. `SlotColumns.set`
 * widens a column the first time it must hold a larger id.
 */
export type IdColumn = Uint8Array | Uint16Array | Int32Array;

/** Writes `id` at `slot` of `column`, or of a wider copy when it does not fit; returns the column written. */
function withId(column: IdColumn, slot: number, id: number): IdColumn {
  let target = column;
  if (!(column instanceof Int32Array) && id > (column instanceof Uint8Array ? 0xff : 0xffff)) {
    target = id <= 0xffff ? new Uint16Array(column.length) : new Int32Array(column.length);
    target.set(column);
  }
  target[slot] = id;
  return target;
}

/**
 * The filterable fields of the memories an in-memory mirror holds (the vector codes' and the
 * lexical index's), one entry per slot: what `slotFilter` tests before any ranking. Strings are
 * interned as ids (0 = null).
 */
export class SlotColumns {
  rowids: Float64Array;
  user: IdColumn;
  agent: IdColumn;
  run: IdColumn;
  conversation: IdColumn;
  type: IdColumn;
  subtype: IdColumn;
  createdAt: Float64Array;
  /**
   * Null while every slot's validTo is null (as in most stores: only supersession sets it), so
   * that column takes no memory until a slot has one or a filter reads it (`validTo`).
   */
  private validToColumn: Float64Array | null = null;
  private strings = new Map<string, number>();
  /** Mirrors holding these very columns (`share`); each calls `writable` before changing them. */
  private owners = 1;
  /**
   * The snapshot file these columns were read from, kept open while they are exactly what it
   * holds (`keepOrigin`): what lets the other mirror share them (`sameColumns`) instead of
   * reading its own.
   */
  private origin: SnapshotFile | null = null;

  constructor(capacity: number) {
    this.rowids = new Float64Array(capacity);
    this.user = new Uint8Array(capacity);
    this.agent = new Uint8Array(capacity);
    this.run = new Uint8Array(capacity);
    this.conversation = new Uint8Array(capacity);
    this.type = new Uint8Array(capacity);
    this.subtype = new Uint8Array(capacity);
    this.createdAt = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.rowids.length;
  }

  /**
   * These columns, for one more mirror: after a bulk load the lexical index and the vector
   * mirror hold the same fields of the same memories in the same slots (~19 MB at 1M), and a
   * new process need not read and keep them twice. Copy-on-write: see `writable`.
   */
  share(): SlotColumns {
    this.owners += 1;
    return this;
  }

  /** Keeps `file`, which these columns were just read from, open for `sameColumns` until `releaseOrigin` or the first change. */
  keepOrigin(file: SnapshotFile): void {
    this.releaseOrigin();
    this.origin = file;
  }

  /** Closes the file `keepOrigin` kept (no other mirror will compare with it any more). */
  releaseOrigin(): void {
    this.origin?.close();
    this.origin = null;
  }

  /** These columns, or while shared a copy of them the caller owns alone: call before any change. */
  writable(): SlotColumns {
    this.releaseOrigin();
    if (this.owners === 1) return this;
    this.owners -= 1;
    const copy = new SlotColumns(0);
    copy.rowids = this.rowids.slice();
    copy.user = this.user.slice();
    copy.agent = this.agent.slice();
    copy.run = this.run.slice();
    copy.conversation = this.conversation.slice();
    copy.type = this.type.slice();
    copy.subtype = this.subtype.slice();
    copy.createdAt = this.createdAt.slice();
    copy.validToColumn = this.validToColumn?.slice() ?? null;
    copy.strings = new Map(this.strings);
    return copy;
  }

  /** The interned id of a string, or undefined when no slot holds it. */
  idOf(value: string): number | undefined {
    return this.strings.get(value);
  }

  /** Fills slot `slot` from a row read with `slotFieldColumns` starting at `offset`. */
  set(slot: number, rowid: number, row: readonly unknown[], offset: number): void {
    this.rowids[slot] = rowid;
    this.user = withId(this.user, slot, this.intern(row[offset] as string | null));
    this.agent = withId(this.agent, slot, this.intern(row[offset + 1] as string | null));
    this.run = withId(this.run, slot, this.intern(row[offset + 2] as string | null));
    this.conversation = withId(this.conversation, slot, this.intern(row[offset + 3] as string | null));
    this.type = withId(this.type, slot, this.intern(row[offset + 4] as string));
    this.subtype = withId(this.subtype, slot, this.intern(row[offset + 5] as string | null));
    this.createdAt[slot] = row[offset + 6] as number;
    const validTo = row[offset + 8] as number | null;
    if (validTo !== null || this.validToColumn !== null) this.validTo[slot] = validTo ?? Number.NaN;
  }

  /** Copies slot `from` to slot `to`. */
  move(from: number, to: number): void {
    for (const column of this.columns()) column[to] = column[from] as number;
  }

  /** Grows every column to `capacity` slots, keeping the first `used`. */
  grow(capacity: number, used: number): void {
    const grow = <T extends Float64Array | IdColumn>(array: T): T => {
      const larger = new (array.constructor as new (length: number) => T)(capacity);
      larger.set(array.subarray(0, used));
      return larger;
    };
    this.rowids = grow(this.rowids);
    this.user = grow(this.user);
    this.agent = grow(this.agent);
    this.run = grow(this.run);
    this.conversation = grow(this.conversation);
    this.type = grow(this.type);
    this.subtype = grow(this.subtype);
    this.createdAt = grow(this.createdAt);
    if (this.validToColumn !== null) this.validToColumn = grow(this.validToColumn);
  }

  /** The first `used` slots and the interned strings, for `SlotColumns.fromSnapshot`. */
  exportState(used: number): { strings: string[]; arrays: Record<string, Float64Array | Int32Array> } {
    const arrays: Record<string, Float64Array | Int32Array> = {};
    this.columns().forEach((column, index) => {
      if (column instanceof Float64Array) {
        arrays[columnNames[index] as string] = column.slice(0, used);
        return;
      }
      // A column of nulls (agent, run and conversation often are) is left out: on load its
      // zero-filled array is never written, so its pages take no memory.
      if (column.subarray(0, used).every((value) => value === 0)) return;
      // Saved as Int32Array whatever its width now (the snapshot stores it narrow anyway), so
      // the file is the one earlier versions wrote and read.
      arrays[columnNames[index] as string] = Int32Array.from(column.subarray(0, used));
    });
    // Saved (as one repeated value) even when null everywhere: earlier versions read a missing column as zeros.
    if (this.validToColumn === null) arrays.validTo = new Float64Array(used).fill(Number.NaN);
    return { strings: [...this.strings.keys()], arrays };
  }

  /** Columns read from a snapshot's `<prefix><name>` arrays (`exportState`'s), with room for `capacity` slots. */
  static fromSnapshot(strings: string[], file: SnapshotFile, prefix: string, capacity: number): SlotColumns {
    const columns = new SlotColumns(capacity);
    strings.forEach((value, index) => {
      columns.strings.set(value, index + 1);
    });
    for (const name of columnNames) {
      const stored = `${prefix}${name}`;
      if (!file.has(stored)) continue;
      // A validTo null everywhere stays unmade (see `validToColumn`).
      if (name === 'validTo' && Number.isNaN(file.filledWith(stored))) continue;
      // Id columns keep the width they were stored in (`IdColumn`).
      if (idColumnNames.has(name)) columns[name as 'user'] = file.readNarrow(stored, capacity);
      else if (name === 'validTo') file.readInto(stored, columns.validTo.subarray(0, file.length(stored)));
      else file.readInto(stored, (columns[name as 'rowids'] as Float64Array).subarray(0, file.length(stored)));
    }
    return columns;
  }

  /**
   * Whether `file`'s `<prefix>` columns and `strings` are exactly those `origin` held when these
   * columns were read from it, with room for `capacity` slots: the same array entries and the
   * same stored bytes (compared a chunk at a time, not widened: ~14 MB a 1M-memory file).
   */
  sameColumns(file: SnapshotFile, prefix: string, strings: readonly string[], capacity: number): boolean {
    const origin = this.origin;
    if (origin === null || capacity !== this.capacity || strings.length !== this.strings.size) return false;
    let index = 0;
    for (const value of this.strings.keys()) if (strings[index++] !== value) return false;
    return columnNames.every((name) => origin.sameArray(`${prefix}${name}`, file, `${prefix}${name}`));
  }

  /** Each slot's validTo, NaN when null (made the first time it is asked for). */
  get validTo(): Float64Array {
    if (this.validToColumn === null) this.validToColumn = new Float64Array(this.rowids.length).fill(Number.NaN);
    return this.validToColumn;
  }

  /** The columns in `columnNames` order; a validTo column of nulls not made yet is left out (it would be all NaN). */
  private columns(): Array<Float64Array | IdColumn> {
    const columns = [this.rowids, this.user, this.agent, this.run, this.conversation, this.type, this.subtype, this.createdAt];
    return this.validToColumn === null ? columns : [...columns, this.validToColumn];
  }

  private intern(value: string | null): number {
    if (value === null) return 0;
    let id = this.strings.get(value);
    if (id === undefined) {
      id = this.strings.size + 1;
      this.strings.set(value, id);
    }
    return id;
  }
}

/**
 * The `memories` columns `SlotColumns.set` reads, in its order (alias `m`); the 8th says whether
 * the memory is superseded (the caller's mask bit).
 */
export const slotFieldColumns = `m.user_id, m.agent_id, m.run_id, m.conversation_id, m.type, m.subtype,
  m.created_at, m.superseded_by IS NOT NULL, m.valid_to`;

/**
 * The `SlotFields` view of a mirror whose fields live in `columns` (the vector codes' and the
 * lexical index's): the column getters, so each mirror only says where its columns and mask are.
 */
export abstract class SlotFieldsView {
  protected abstract readonly columnsNow: SlotColumns;
  abstract readonly mask: Uint8Array;

  get rowids(): Float64Array {
    return this.columnsNow.rowids;
  }
  get user(): IdColumn {
    return this.columnsNow.user;
  }
  get agent(): IdColumn {
    return this.columnsNow.agent;
  }
  get run(): IdColumn {
    return this.columnsNow.run;
  }
  get conversation(): IdColumn {
    return this.columnsNow.conversation;
  }
  get type(): IdColumn {
    return this.columnsNow.type;
  }
  get subtype(): IdColumn {
    return this.columnsNow.subtype;
  }
  get createdAt(): Float64Array {
    return this.columnsNow.createdAt;
  }
  get validTo(): Float64Array {
    return this.columnsNow.validTo;
  }

  idOf(value: string): number | undefined {
    return this.columnsNow.idOf(value);
  }

  /**
   * The largest rowid among the first `count` slots, dead ones included (~1 ms at 1M, where
   * building `liveSlotMap` takes ~170 ms): a rowid above it has no slot, so an index loaded from
   * a snapshot appends a writer's new rows without building its map (see `rowidCeiling`).
   */
  protected largestRowid(count: number): number {
    const { rowids } = this.columnsNow;
    let largest = 0;
    for (let slot = 0; slot < count; slot++) if ((rowids[slot] as number) > largest) largest = rowids[slot] as number;
    return largest;
  }

  /** rowid → slot of the first `count` slots that are not dead (`deadBit` clear in the mask). */
  protected liveSlotMap(count: number, deadBit: number): Map<number, number> {
    const map = new Map<number, number>();
    const { rowids } = this.columnsNow;
    const mask = this.mask;
    for (let slot = 0; slot < count; slot++) {
      if (((mask[slot] as number) & deadBit) === 0) map.set(rowids[slot] as number, slot);
    }
    return map;
  }
}
