import { type CatchUp, readLogChanges, readLogHead } from './sqlite-change-log.js';
import type { SqliteSession } from './sqlite-session.js';
import { SlotColumns, SlotFieldsView, slotFieldColumns } from './sqlite-slot-columns.js';
import { readSnapshot, type SnapshotFile, saveSnapshot } from './sqlite-snapshot.js';
import { type CodeLayout, codeVersion, type VectorCoder } from './sqlite-vector-codes.js';
import type { SlotFields } from './sqlite-vector-filter.js';
import { CodeArena, slotDead, slotSuperseded } from './sqlite-vector-kernel.js';
import { decodeStoredVector } from './sqlite-vector-storage.js';

/**
 * Default for `SqliteStoreOptions.vectorCacheBytes`: up to this many bytes of float vectors are
 * also kept in memory (10k 384-d vectors take 15 MB), so the exact stage of a search reads no
 * row; larger stores read the few vectors that stage needs from disk.
 */
export const defaultFloatCacheBytes = 64 * 1024 * 1024;

const initialCapacity = 1024;

/** One row of the cache's load query: rowid, stored vector, then `slotFieldColumns`. */
type LoadedRow = [rowid: number, vector: Buffer, ...fields: unknown[]];

const loadColumns = `e.rowid, e.vector, ${slotFieldColumns}`;
const loadAllSql = `SELECT ${loadColumns} FROM memory_embeddings e JOIN memories m ON m.rowid = e.rowid`;
const loadOneSql = `SELECT ${loadColumns} FROM memory_embeddings e JOIN memories m ON m.rowid = e.rowid WHERE e.rowid = ?`;

/**
 * Bump when the snapshot layout changes: older snapshots are then rebuilt. (Columns of nulls left
 * out of a snapshot read as nulls, so such a snapshot is still version 1.) 2: codes computed from
 * the int8 vectors (migration 0010), no longer read from a table.
 */
const snapshotVersion = 2;
/** Smaller mirrors load from the rows in a few tens of milliseconds and are never persisted. */
const snapshotMinimum = 10_000;

/**
 * This connection's in-memory mirror of the vector codes and the filterable fields of their
 * memories: what the search stages before the exact one scan.
 *
 * The database is the truth. Every change that matters to a search — a vector written, replaced
 * or dropped, a memory's type, subtype, supersession or validTo changed — appends the memory's
 * rowid to `memory_vector_log` (see `readLogChanges`). Before each search the cache compares the
 * log's head with the last entry it applied (one indexed read) and reloads just the changed rows;
 * when it fell further behind than the log keeps, or a transaction it saw rolled back, it reloads
 * everything.
 *
 * Slots are append-only; a removed vector's slot is masked dead and reclaimed by compaction.
 * While the vectors fit in `floatBudget` bytes as floats, they are mirrored too (`floats`, dequantised).
 */
export class VectorCache extends SlotFieldsView implements SlotFields {
  private arena: CodeArena;
  private used = 0;
  private liveCount = 0;
  private appliedSeq = -1;
  /** rowid → slot; null after a snapshot load until first needed (~10 ms per 100k to build). */
  private slotMap: Map<number, number> | null = new Map();
  /** While `slotMap` is null: the largest rowid with a slot, once computed (see `hasNoSlot`). */
  private rowidCeiling: number | null = null;
  private columns = new SlotColumns(initialCapacity);
  private triedSnapshot = false;
  /** Rows reloaded since the persisted snapshot matched this mirror (−1: no snapshot is current). */
  private changesSinceSnapshot = -1;
  /** Each slot's float vector (`layout.dimensions` values) and its norm, or null when not mirrored. */
  floats: Float32Array | null = null;
  norms: Float64Array | null = null;

  /**
   * Codes a snapshot load left reading in the background (`startLoading`): until `done` settles,
   * nothing may read or write the arena's codes; `settlePending` makes them usable either way.
   */
  private pending: PendingCodes | null = null;

  /** Bytes of float vectors this cache may mirror (decided at each full load). */
  floatBudget = defaultFloatCacheBytes;

  readonly layout: CodeLayout;
  /** Scratch for `put`: a stored vector as floats, and its code. */
  private readonly vector: Float32Array;
  private readonly code: Uint8Array;

  /** Codes are computed here from the stored vectors (no table keeps them: see migration 0010). */
  constructor(private readonly coder: VectorCoder) {
    super();
    this.layout = coder.layout;
    this.arena = new CodeArena(this.layout.bytes, this.layout.hammingBytes, initialCapacity);
    this.vector = new Float32Array(this.layout.dimensions);
    this.code = new Uint8Array(this.layout.bytes);
  }

  protected get columnsNow(): SlotColumns {
    return this.columns;
  }

  /** The arena the kernel scans (replaced when the cache grows or compacts). */
  get codes(): CodeArena {
    return this.arena;
  }

  get mask(): Uint8Array {
    return this.arena.mask;
  }

  /** Slots in use, dead ones included: the range a full scan covers. */
  get slotCount(): number {
    return this.used;
  }

  get size(): number {
    return this.liveCount;
  }

  private get slotOf(): Map<number, number> {
    if (this.slotMap === null) this.slotMap = this.liveSlotMap(this.used, slotDead);
    return this.slotMap;
  }

  /**
   * Whether `rowid` surely has no slot, told without building the slot map while it is not built
   * (after a snapshot load): a row newer than every mirrored one, as a writer's inserts are.
   */
  private hasNoSlot(rowid: number): boolean {
    if (this.slotMap !== null) return false;
    this.rowidCeiling ??= this.largestRowid(this.used);
    return rowid > this.rowidCeiling;
  }

  slotOfRowid(rowid: number): number | undefined {
    return this.slotOf.get(rowid);
  }

  /** Whether this mirror was loaded from the rows and no snapshot of it has been written yet. */
  get lacksSnapshot(): boolean {
    return this.appliedSeq >= 0 && this.liveCount >= snapshotMinimum && this.changesSinceSnapshot < 0;
  }

  /** Whether persisting this mirror would save a later connection work: none yet, or 5 % changed. */
  get wantsSnapshot(): boolean {
    if (this.appliedSeq < 0 || this.liveCount < snapshotMinimum) return false;
    return this.changesSinceSnapshot < 0 || this.changesSinceSnapshot >= Math.max(1000, this.liveCount / 20);
  }

  /**
   * Persists the codes, masks and fields (not the float vectors) as the `vectors` snapshot, so a
   * new connection loads them in one read instead of one row at a time (~2.7 µs a row).
   */
  saveSnapshot(session: SqliteSession): void {
    if (!this.wantsSnapshot) return;
    if (this.pending) this.settlePending();
    if (this.used !== this.liveCount) this.compact();
    const { hammingBytes, bytes, dimensions } = this.layout;
    const columns = this.columns.exportState(this.used);
    const arrays: Record<string, Int32Array | Float64Array | Uint8Array> = {
      prefixes: this.arena.prefixes.slice(0, this.used * hammingBytes),
      suffixes: this.arena.suffixes.slice(0, this.used * (bytes - hammingBytes)),
      mask: this.arena.mask.slice(0, this.used),
    };
    for (const [name, array] of Object.entries(columns.arrays)) arrays[`column.${name}`] = array;
    const meta = { version: snapshotVersion, seq: this.appliedSeq, bytes, hammingBytes, dimensions, codeVersion };
    saveSnapshot(session, 'vectors', meta, { strings: columns.strings, used: this.used }, arrays);
    this.changesSinceSnapshot = 0;
  }

  /**
   * Starts loading the snapshot (when there is a usable one): the fields and the mask now, the
   * codes (128 bytes a vector: 128 MB at 1M) on libuv's thread pool, so a new process's first
   * search does other work (its lexical half: loading that index and ranking) while the kernel
   * copies them (see `startLoadingVectors`). `loading` says when they are in place; `sync` never
   * waits for it (see `settlePending`).
   */
  startLoading(session: SqliteSession): void {
    if (this.triedSnapshot) return;
    this.triedSnapshot = true;
    this.loadSnapshot(session, true);
  }

  /** The mirror's columns (another mirror may share them while they are the snapshot's: `SlotColumns.sameColumns`). */
  get snapshotColumns(): SlotColumns {
    return this.columns;
  }

  /** Closes the snapshot file kept for another mirror to compare with (on close, or once it has). */
  releaseSnapshotFile(): void {
    this.columns.releaseOrigin();
  }

  /** Resolves (never rejects) when codes read in the background are in place; null when none are being read. */
  get loading(): Promise<void> | null {
    return this.pending?.done ?? null;
  }

  /**
   * Brings the cache up to date with the database (see the class comment); with `limit`, applies
   * at most that many log entries (one step of a writer's catch-up: see `readLogChanges`) unless
   * it must reload.
   */
  sync(session: SqliteSession, limit = Number.POSITIVE_INFINITY): CatchUp {
    if (!this.triedSnapshot) {
      this.triedSnapshot = true;
      this.loadSnapshot(session, false);
    }
    if (this.pending) this.settlePending();
    if (readLogHead(session) === this.appliedSeq) return { rows: 0, current: true };
    // One read transaction: the log, its head and the rows are one snapshot.
    return session.db
      .transaction((): CatchUp => {
        const changes = readLogChanges(session, this.appliedSeq, this.liveCount, limit);
        if (changes.kind === 'reload') {
          this.reload(session, changes.head);
          return { rows: this.liveCount, current: true };
        }
        const one = session.statement(loadOneSql).raw(true);
        for (const rowid of changes.rowids) {
          const row = one.get(rowid) as LoadedRow | undefined;
          if (!row) this.remove(rowid);
          else {
            const slot = this.put(row);
            if (this.floats) this.putFloats(slot, row[1]);
          }
        }
        if (this.changesSinceSnapshot >= 0) this.changesSinceSnapshot += changes.rowids.length;
        this.appliedSeq = changes.head;
        if (this.used - this.liveCount > Math.max(initialCapacity, this.liveCount)) this.compact();
        return { rows: changes.rowids.length, current: changes.complete };
      })
      .deferred();
  }

  private reload(session: SqliteSession, head: number): void {
    this.clear();
    const rows = session.statement(loadAllSql).raw(true).iterate() as IterableIterator<LoadedRow>;
    for (const row of rows) this.put(row);
    this.loadFloats(session);
    this.appliedSeq = head;
    this.changesSinceSnapshot = -1;
  }

  /** Mirrors every slot's float vector when they fit the budget (after a full load). */
  private loadFloats(session: SqliteSession): void {
    this.dropFloats();
    if (!this.fitsFloats()) return;
    // Sized for every slot the budget allows, not for today's capacity: the memory is only
    // reserved (the system hands out pages as they are first written), and growing never copies
    // it. Doubling a 16k-slot mirror copied 24 MB into fresh pages: a 150–190 ms stall of a
    // writer's request on this project's VMs. A budget too large to reserve (a typed array's
    // length limit, or a system that refuses it) gets today's capacity, grown by copying.
    if (!this.allocateFloats(this.floatSlots()) && !this.allocateFloats(this.arena.capacity)) return;
    const vectors = session.statement('SELECT rowid, vector FROM memory_embeddings').raw(true).iterate() as IterableIterator<
      [number, Buffer]
    >;
    let mirrored = 0;
    for (const [rowid, blob] of vectors) {
      const slot = this.slotOf.get(rowid);
      if (slot !== undefined && this.floats) {
        this.putFloats(slot, blob);
        mirrored += 1;
      }
    }
    // Every code has its vector (they are written and dropped together); if not, do without.
    if (mirrored !== this.liveCount) this.dropFloats();
  }

  /**
   * Makes the codes being read in the background usable now. Read: nothing to do. Failed: the
   * mirror is emptied, so this sync reloads it from the rows. Still reading (a caller that did
   * not wait for `loading`): they are read again, synchronously, into a fresh arena — the reads in
   * flight finish into the old one, which nothing uses any more, so they cannot overwrite a code
   * written after this.
   */
  private settlePending(): void {
    const pending = this.pending as PendingCodes;
    this.pending = null;
    if (pending.state === 'read') return;
    const { bytes, hammingBytes } = this.layout;
    if (pending.state === 'reading') {
      try {
        const fresh = new CodeArena(bytes, hammingBytes, this.arena.capacity);
        fresh.mask.set(this.arena.mask.subarray(0, this.used));
        pending.file.readInto('prefixes', fresh.prefixes.subarray(0, this.used * hammingBytes));
        pending.file.readInto('suffixes', fresh.suffixes.subarray(0, this.used * (bytes - hammingBytes)));
        this.arena = fresh;
        return;
      } catch {
        // Unreadable now: load from the rows, as below.
      }
    }
    this.emptyForRows(bytes, hammingBytes, initialCapacity);
    this.changesSinceSnapshot = -1;
  }

  /**
   * Loads the `vectors` snapshot when it matches this layout and the log still covers it; with
   * `background`, leaves its codes reading on the thread pool (see `startLoading`).
   */
  private loadSnapshot(session: SqliteSession, background: boolean): void {
    const { hammingBytes, bytes, dimensions } = this.layout;
    try {
      session.db
        .transaction(() => {
          const snapshot = readSnapshot(
            session,
            'vectors',
            (meta) =>
              meta.version === snapshotVersion &&
              meta.codeVersion === codeVersion &&
              meta.bytes === bytes &&
              meta.hammingBytes === hammingBytes &&
              meta.dimensions === dimensions,
          );
          if (snapshot === null) return;
          const { meta, header, file } = snapshot;
          let arena: CodeArena;
          let columns: SlotColumns;
          const { strings, used } = header as { strings: string[]; used: number };
          let pending: PendingCodes | null = null;
          try {
            let capacity = initialCapacity;
            while (capacity < used) capacity *= 2;
            // Each array is read straight into its place in the arena and the columns.
            arena = new CodeArena(bytes, hammingBytes, capacity);
            const prefixes = arena.prefixes.subarray(0, used * hammingBytes);
            const suffixes = arena.suffixes.subarray(0, used * (bytes - hammingBytes));
            if (background) pending = readCodesInBackground(file, prefixes, suffixes);
            else {
              file.readInto('prefixes', prefixes);
              file.readInto('suffixes', suffixes);
            }
            file.readInto('mask', arena.mask.subarray(0, used));
            columns = SlotColumns.fromSnapshot(strings, file, 'column.', capacity);
          } catch (error) {
            // The reads in flight finish into an arena nothing uses; then the file closes.
            file.close();
            throw error;
          }
          // Kept open until the lexical index compared its columns with it (it may share these
          // columns) or they first change; closed then (after the last background read).
          columns.keepOrigin(file);
          this.pending = pending;
          this.arena = arena;
          this.columns = columns;
          this.clear();
          this.slotMap = null;
          this.rowidCeiling = null;
          this.used = used;
          this.liveCount = used;
          this.loadFloats(session);
          this.appliedSeq = meta.seq;
          this.changesSinceSnapshot = 0;
        })
        .deferred();
    } catch {
      // A damaged snapshot: load from the rows.
      this.pending = null;
      this.emptyForRows(bytes, hammingBytes, initialCapacity);
    }
  }

  /** Empty arena and columns, nothing applied: the next catch-up loads every vector from the rows. */
  private emptyForRows(bytes: number, hammingBytes: number, initialCapacity: number): void {
    this.arena = new CodeArena(bytes, hammingBytes, initialCapacity);
    this.columns.releaseOrigin();
    this.columns = new SlotColumns(initialCapacity);
    this.clear();
    this.dropFloats();
    this.appliedSeq = -1;
  }

  /** Whether float vectors for every slot the arrays hold (capacity, not just live) fit the budget. */
  private fitsFloats(): boolean {
    return this.arena.capacity <= this.floatSlots();
  }

  /** Slots whose float vectors fit the budget: what the mirror is allocated for. */
  private floatSlots(): number {
    return Math.floor(this.floatBudget / (this.layout.dimensions * 4));
  }

  /** A zeroed mirror of `slots` slots in place of the current one; false (and none) when it cannot be allocated. */
  private allocateFloats(slots: number): boolean {
    try {
      this.floats = new Float32Array(slots * this.layout.dimensions);
      this.norms = new Float64Array(slots);
      return true;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.dropFloats();
      return false;
    }
  }

  private dropFloats(): void {
    this.floats = null;
    this.norms = null;
  }

  private putFloats(slot: number, blob: Buffer | undefined): void {
    const floats = this.floats as Float32Array;
    const norms = this.norms as Float64Array;
    const { dimensions } = this.layout;
    // Stored vectors are int8 (or float32 in files from before 0010); the mirror holds their floats.
    const vector = blob ? decodeStoredVector(blob, dimensions, floats.subarray(slot * dimensions, (slot + 1) * dimensions)) : null;
    if (vector === null) {
      // No vector row (cannot happen while codes and vectors are written together): stop mirroring.
      this.dropFloats();
      return;
    }
    let norm = 0;
    for (let index = 0; index < dimensions; index++) norm += (vector[index] as number) ** 2;
    norms[slot] = Math.sqrt(norm);
  }

  private clear(): void {
    this.used = 0;
    this.liveCount = 0;
    this.slotMap = new Map();
  }

  private put(row: LoadedRow): number {
    const rowid = row[0];
    let slot = this.hasNoSlot(rowid) ? undefined : this.slotOf.get(rowid);
    if (slot === undefined) {
      if (this.used === this.arena.capacity) this.resize(this.arena.capacity * 2);
      slot = this.used++;
      // An unbuilt map will include this slot when it is built (it scans every used slot).
      if (this.slotMap === null) this.rowidCeiling = Math.max(this.rowidCeiling ?? this.largestRowid(slot), rowid);
      else this.slotMap.set(rowid, slot);
      this.liveCount += 1;
    }
    const blob = row[1];
    if (decodeStoredVector(blob, this.layout.dimensions, this.vector) === null) {
      throw new Error(`vector of row ${rowid} has ${blob.length} bytes, not a ${this.layout.dimensions}-dimensional vector`);
    }
    this.coder.encode(this.vector, this.code);
    this.arena.setCode(slot, this.code);
    this.arena.mask[slot] = row[9] ? slotSuperseded : 0;
    this.columns = this.columns.writable();
    this.columns.set(slot, rowid, row, 2);
    return slot;
  }

  private remove(rowid: number): void {
    if (this.hasNoSlot(rowid)) return;
    const slot = this.slotOf.get(rowid);
    if (slot === undefined) return;
    this.slotOf.delete(rowid);
    this.arena.mask[slot] = slotDead;
    this.liveCount -= 1;
  }

  /** Moves the live slots to the front, dropping dead ones. */
  private compact(): void {
    this.columns = this.columns.writable();
    const mask = this.arena.mask;
    let next = 0;
    for (let slot = 0; slot < this.used; slot++) {
      if (((mask[slot] as number) & slotDead) !== 0) continue;
      if (slot !== next) {
        this.arena.move(slot, next);
        this.columns.move(slot, next);
        if (this.floats && this.norms) {
          const { dimensions } = this.layout;
          this.floats.copyWithin(next * dimensions, slot * dimensions, (slot + 1) * dimensions);
          this.norms[next] = this.norms[slot] as number;
        }
        this.slotOf.set(this.rowids[next] as number, next);
      }
      next += 1;
    }
    this.used = next;
  }

  private resize(capacity: number): void {
    this.arena = this.arena.grow(capacity, this.used);
    this.columns = this.columns.writable();
    this.columns.grow(capacity, this.used);
    if (!this.floats || !this.norms) return;
    // Past the budget the mirror goes. Inside it, a mirror allocated for the whole budget has
    // room already; one that could only have its capacity (see `loadFloats`) is copied.
    if (!this.fitsFloats()) this.dropFloats();
    else if (this.norms.length < capacity) {
      const floats = this.floats.subarray(0, this.used * this.layout.dimensions);
      const norms = this.norms.subarray(0, this.used);
      if (this.allocateFloats(capacity)) {
        (this.floats as Float32Array).set(floats);
        (this.norms as Float64Array).set(norms);
      }
    }
  }
}

/** Codes being read from a snapshot file on the thread pool; `state` follows the reads. */
interface PendingCodes {
  file: SnapshotFile;
  state: 'reading' | 'read' | 'failed';
  /** Settles (never rejects) when `state` is no longer `reading`. */
  done: Promise<void>;
}

/** Starts reading a snapshot's `prefixes` and `suffixes` into these arrays in the background. */
function readCodesInBackground(file: SnapshotFile, prefixes: Uint8Array, suffixes: Uint8Array): PendingCodes {
  const pending: PendingCodes = { file, state: 'reading', done: Promise.resolve() };
  pending.done = Promise.all([file.readIntoInBackground('prefixes', prefixes), file.readIntoInBackground('suffixes', suffixes)]).then(
    () => {
      if (pending.state === 'reading') pending.state = 'read';
    },
    () => {
      pending.state = 'failed';
    },
  );
  return pending;
}
