import type { SqliteSession } from './sqlite-session.js';
import type { CodeLayout } from './sqlite-vector-codes.js';
import type { SlotFields } from './sqlite-vector-filter.js';
import { CodeArena, slotDead, slotSuperseded } from './sqlite-vector-kernel.js';

/**
 * Default for `SqliteStoreOptions.vectorCacheBytes`: up to this many bytes of float vectors are
 * also kept in memory (10k 384-d vectors take 15 MB), so the exact stage of a search reads no
 * row; larger stores read the few vectors that stage needs from disk.
 */
export const defaultFloatCacheBytes = 64 * 1024 * 1024;

const initialCapacity = 1024;

/** One row of the cache's load query; see `loadColumns`. */
type LoadedRow = [
  rowid: number,
  code: Buffer,
  userId: string | null,
  agentId: string | null,
  runId: string | null,
  conversationId: string | null,
  type: string,
  subtype: string | null,
  createdAt: number,
  superseded: number,
  validTo: number | null,
];

const loadColumns = `c.rowid, c.code, m.user_id, m.agent_id, m.run_id, m.conversation_id, m.type, m.subtype,
  m.created_at, m.superseded_by IS NOT NULL, m.valid_to`;
const loadAllSql = `SELECT ${loadColumns} FROM memory_vector_codes c JOIN memories m ON m.rowid = c.rowid`;
const loadOneSql = `SELECT ${loadColumns} FROM memory_vector_codes c JOIN memories m ON m.rowid = c.rowid WHERE c.rowid = ?`;
const headSql = "SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'";

/**
 * This connection's in-memory mirror of the vector codes and the filterable fields of their
 * memories: what the search stages before the exact one scan.
 *
 * The database is the truth. Every change that matters to a search — a vector written, replaced
 * or dropped, a memory's type, subtype, supersession or validTo changed — appends the memory's
 * rowid to `memory_vector_log` (triggers, so writes from other processes count too; the log keeps
 * its last 100,000 entries). Before each search the cache compares the log's head with the last
 * entry it applied (one indexed read) and reloads just the changed rows; when it fell further
 * behind than the log keeps, or a transaction it saw rolled back, it reloads everything.
 *
 * Slots are append-only; a removed vector's slot is masked dead and reclaimed by compaction.
 * While the float vectors fit in `floatBudget` bytes, they are mirrored too (`floats`).
 */
export class VectorCache implements SlotFields {
  private arena: CodeArena;
  private used = 0;
  private liveCount = 0;
  private appliedSeq = -1;
  private readonly slotOf = new Map<number, number>();
  private readonly strings = new Map<string, number>();
  rowids: Float64Array;
  user: Int32Array;
  agent: Int32Array;
  run: Int32Array;
  conversation: Int32Array;
  type: Int32Array;
  subtype: Int32Array;
  createdAt: Float64Array;
  validTo: Float64Array;
  /** Each slot's float vector (`layout.dimensions` values) and its norm, or null when not mirrored. */
  floats: Float32Array | null = null;
  norms: Float64Array | null = null;

  /** Bytes of float vectors this cache may mirror (decided at each full load). */
  floatBudget = defaultFloatCacheBytes;

  constructor(readonly layout: CodeLayout) {
    this.arena = new CodeArena(layout.bytes, layout.hammingBytes, initialCapacity);
    this.rowids = new Float64Array(initialCapacity);
    this.user = new Int32Array(initialCapacity);
    this.agent = new Int32Array(initialCapacity);
    this.run = new Int32Array(initialCapacity);
    this.conversation = new Int32Array(initialCapacity);
    this.type = new Int32Array(initialCapacity);
    this.subtype = new Int32Array(initialCapacity);
    this.createdAt = new Float64Array(initialCapacity);
    this.validTo = new Float64Array(initialCapacity);
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

  idOf(value: string): number | undefined {
    return this.strings.get(value);
  }

  slotOfRowid(rowid: number): number | undefined {
    return this.slotOf.get(rowid);
  }

  /** Brings the cache up to date with the database (see the class comment). */
  sync(session: SqliteSession): void {
    const head = readHead(session);
    if (head === this.appliedSeq) return;
    // One read transaction: the log, its head and the rows are one snapshot.
    session.db
      .transaction(() => {
        const current = readHead(session);
        if (this.appliedSeq < 0 || current < this.appliedSeq) return this.reload(session, current);
        const oldest = session.statement('SELECT min(seq) AS seq FROM memory_vector_log').get() as { seq: number | null };
        if (oldest.seq === null ? current > this.appliedSeq : oldest.seq > this.appliedSeq + 1) return this.reload(session, current);
        const changed = session
          .statement('SELECT DISTINCT memory_rowid AS rowid FROM memory_vector_log WHERE seq > ?')
          .pluck()
          .all(this.appliedSeq) as number[];
        if (changed.length > this.liveCount / 2 + 1000) return this.reload(session, current);
        const one = session.statement(loadOneSql).raw(true);
        const vector = session.statement('SELECT vector FROM memory_embeddings WHERE rowid = ?').pluck();
        for (const rowid of changed) {
          const row = one.get(rowid) as LoadedRow | undefined;
          if (!row) this.remove(rowid);
          else {
            const slot = this.put(row);
            if (this.floats && !this.fitsFloats()) this.dropFloats();
            if (this.floats) this.putFloats(slot, vector.get(rowid) as Buffer | undefined);
          }
        }
        this.appliedSeq = current;
        if (this.used - this.liveCount > Math.max(initialCapacity, this.liveCount)) this.compact();
      })
      .deferred();
  }

  private reload(session: SqliteSession, head: number): void {
    this.clear();
    const rows = session.statement(loadAllSql).raw(true).iterate() as IterableIterator<LoadedRow>;
    for (const row of rows) this.put(row);
    this.dropFloats();
    if (this.fitsFloats()) {
      this.floats = new Float32Array(this.arena.capacity * this.layout.dimensions);
      this.norms = new Float64Array(this.arena.capacity);
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
    this.appliedSeq = head;
  }

  /** Whether float vectors for every slot the arrays hold (capacity, not just live) fit the budget. */
  private fitsFloats(): boolean {
    return this.arena.capacity * this.layout.dimensions * 4 <= this.floatBudget;
  }

  private dropFloats(): void {
    this.floats = null;
    this.norms = null;
  }

  private putFloats(slot: number, blob: Buffer | undefined): void {
    const floats = this.floats as Float32Array;
    const norms = this.norms as Float64Array;
    const { dimensions } = this.layout;
    if (!blob || blob.byteLength !== dimensions * 4) {
      // No vector row (cannot happen while codes and vectors are written together): stop mirroring.
      this.dropFloats();
      return;
    }
    const vector =
      blob.byteOffset % 4 === 0
        ? new Float32Array(blob.buffer, blob.byteOffset, dimensions)
        : new Float32Array(Uint8Array.prototype.slice.call(blob).buffer);
    let norm = 0;
    for (let index = 0; index < dimensions; index++) {
      const value = vector[index] as number;
      floats[slot * dimensions + index] = value;
      norm += value * value;
    }
    norms[slot] = Math.sqrt(norm);
  }

  private clear(): void {
    this.used = 0;
    this.liveCount = 0;
    this.slotOf.clear();
  }

  private put(row: LoadedRow): number {
    const rowid = row[0];
    let slot = this.slotOf.get(rowid);
    if (slot === undefined) {
      if (this.used === this.arena.capacity) this.resize(this.arena.capacity * 2);
      slot = this.used++;
      this.slotOf.set(rowid, slot);
      this.liveCount += 1;
    }
    const { bytes } = this.layout;
    const code = row[1];
    if (code.length !== bytes) throw new Error(`vector code of row ${rowid} has ${code.length} bytes, expected ${bytes}`);
    this.arena.setCode(slot, code);
    this.arena.mask[slot] = row[9] ? slotSuperseded : 0;
    this.rowids[slot] = rowid;
    this.user[slot] = this.intern(row[2]);
    this.agent[slot] = this.intern(row[3]);
    this.run[slot] = this.intern(row[4]);
    this.conversation[slot] = this.intern(row[5]);
    this.type[slot] = this.intern(row[6]);
    this.subtype[slot] = this.intern(row[7]);
    this.createdAt[slot] = row[8];
    this.validTo[slot] = row[10] ?? Number.NaN;
    return slot;
  }

  private remove(rowid: number): void {
    const slot = this.slotOf.get(rowid);
    if (slot === undefined) return;
    this.slotOf.delete(rowid);
    this.arena.mask[slot] = slotDead;
    this.liveCount -= 1;
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

  /** Moves the live slots to the front, dropping dead ones. */
  private compact(): void {
    const mask = this.arena.mask;
    let next = 0;
    for (let slot = 0; slot < this.used; slot++) {
      if (((mask[slot] as number) & slotDead) !== 0) continue;
      if (slot !== next) {
        this.arena.move(slot, next);
        for (const column of [
          this.rowids,
          this.user,
          this.agent,
          this.run,
          this.conversation,
          this.type,
          this.subtype,
          this.createdAt,
          this.validTo,
        ]) {
          column[next] = column[slot] as number;
        }
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
    const grow = <T extends Float64Array | Int32Array>(array: T): T => {
      const larger = new (array.constructor as new (length: number) => T)(capacity);
      larger.set(array.subarray(0, this.used));
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
    this.validTo = grow(this.validTo);
    if (this.floats && this.norms) {
      const floats = new Float32Array(capacity * this.layout.dimensions);
      floats.set(this.floats.subarray(0, this.used * this.layout.dimensions));
      this.floats = floats;
      this.norms = grow(this.norms);
    }
  }
}

/** The log's last sequence number (0 before any entry; never reused: AUTOINCREMENT). */
function readHead(session: SqliteSession): number {
  const row = session.statement(headSql).get() as { seq: number } | undefined;
  return row?.seq ?? 0;
}
