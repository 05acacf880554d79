import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, read, readdirSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readErasedSeq, readLogHead, recordSnapshotSeq } from './sqlite-change-log.js';
import type { SqliteSession } from './sqlite-session.js';

/**
 * A compact binary form for in-memory indexes persisted in SQLite: a JSON header and named typed
 * arrays, each 8-byte aligned.
 *
 *   u32 magic · u32 header bytes · header JSON · padding · array bytes · padding · …
 *
 * An array is stored in the narrowest form that holds its values exactly (`narrowKind`): one
 * value repeated (a column that is null for every memory) as that value alone; whole numbers as
 * one, two or three bytes each (BM25 term frequencies, document lengths, small ids, term ids and
 * posting slots below 16.7M), or four (rowids held in a Float64Array). The header records the
 * stored form and the kind saved, and reads give back the kind saved: ~110 bytes a memory less on
 * disk. (Files written before this record one kind and read as before.)
 */
export type Typed = Int32Array | Float32Array | Float64Array | Uint8Array | Uint16Array;
type Kind = 'i32' | 'f32' | 'f64' | 'u8' | 'u16';
/** How an array is stored: a kind, three bytes a whole number, or one value repeated. */
type Form = Kind | 'u24' | 'fill';
/**
 * An array's entry in the header: name, stored form, element count, the kind it is read as (when
 * it differs from the form) and, for `fill`, the value (as `String(value)`: NaN and -0 survive).
 */
type ArrayEntry = [name: string, form: Form, count: number, logical?: Kind, value?: string];

const magic = 0x454e4731; // "ENG1"

const kindOf = (array: Typed): Kind =>
  array instanceof Int32Array
    ? 'i32'
    : array instanceof Float32Array
      ? 'f32'
      : array instanceof Float64Array
        ? 'f64'
        : array instanceof Uint16Array
          ? 'u16'
          : 'u8';
const align = (offset: number) => (offset + 7) & ~7;
const bytesPer: Record<Form, number> = { i32: 4, f32: 4, f64: 8, u8: 1, u16: 2, u24: 3, fill: 0 };
const kinds = new Set<string>(['i32', 'f32', 'f64', 'u8', 'u16']);

/** The narrowest form that holds every value of `array` exactly (its own kind when none does). */
function narrowForm(array: Typed): Form {
  const kind = kindOf(array);
  if (array.length >= 2 && array.every((value) => Object.is(value, array[0]))) return 'fill';
  if (kind === 'u8') return kind;
  let smallest = 0;
  let largest = 0;
  for (let index = 0; index < array.length; index++) {
    const value = array[index] as number;
    // NaN, fractions and -0 (which a whole-number form would read back as 0) keep the array's kind.
    if (!Number.isInteger(value) || Object.is(value, -0)) return kind;
    if (value < smallest) smallest = value;
    else if (value > largest) largest = value;
  }
  if (smallest >= 0 && largest <= 0xff) return 'u8';
  if (smallest >= 0 && largest <= 0xffff) return 'u16';
  if (smallest >= 0 && largest <= 0xff_ffff) return 'u24';
  if (kind === 'f64' && smallest >= -0x8000_0000 && largest <= 0x7fff_ffff) return 'i32';
  return kind;
}

/** The bytes of `array` in `form` (see `narrowForm`). */
function storedBytes(array: Typed, form: Form): Uint8Array {
  if (form === 'fill') return new Uint8Array(0);
  if (form === 'u24') {
    const bytes = new Uint8Array(array.length * 3);
    for (let index = 0, at = 0; index < array.length; index++, at += 3) {
      const value = array[index] as number;
      bytes[at] = value & 0xff;
      bytes[at + 1] = (value >>> 8) & 0xff;
      bytes[at + 2] = value >>> 16;
    }
    return bytes;
  }
  let stored: Typed = array;
  if (form !== kindOf(array)) {
    stored = allocate(form as Kind, array.length);
    stored.set(array);
  }
  return new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
}

/** Fills `target` from the stored bytes of `count` elements in `form` (`fill`: `value`). */
function widen(form: Form, bytes: Uint8Array, target: Typed, value: string | undefined): void {
  if (form === 'fill') target.fill(Number(value));
  else if (form === 'u24') {
    // One loop per element type (one shared by all kinds ran 10x slower); others through an Int32Array.
    if (target instanceof Int32Array) unpack24(bytes, target);
    else if (target instanceof Float64Array) unpack24ToFloat64(bytes, target);
    else {
      const unpacked = new Int32Array(target.length);
      unpack24(bytes, unpacked);
      target.set(unpacked);
    }
  } else target.set(view(form, bytes.buffer, bytes.byteOffset, target.length));
}

function unpack24(bytes: Uint8Array, out: Int32Array): void {
  for (let index = 0, at = 0; index < out.length; index++, at += 3) {
    out[index] = (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16);
  }
}

function unpack24ToFloat64(bytes: Uint8Array, out: Float64Array): void {
  for (let index = 0, at = 0; index < out.length; index++, at += 3) {
    out[index] = (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16);
  }
}

export function encodeSnapshot(header: unknown, arrays: Record<string, Typed>): Buffer {
  const names = Object.keys(arrays);
  const entries: ArrayEntry[] = [];
  const stored: Uint8Array[] = [];
  for (const name of names) {
    const array = arrays[name] as Typed;
    const logical = kindOf(array);
    const form = narrowForm(array);
    stored.push(storedBytes(array, form));
    if (form === logical) entries.push([name, form, array.length]);
    else if (form === 'fill') entries.push([name, form, array.length, logical, String(array[0])]);
    else entries.push([name, form, array.length, logical]);
  }
  const json = Buffer.from(JSON.stringify({ header, arrays: entries }));
  let total = align(8 + json.length);
  for (const bytes of stored) total = align(total + bytes.byteLength);
  const buffer = Buffer.alloc(total);
  buffer.writeUInt32LE(magic, 0);
  buffer.writeUInt32LE(json.length, 4);
  json.copy(buffer, 8);
  let offset = align(8 + json.length);
  for (const bytes of stored) {
    buffer.set(bytes, offset);
    offset = align(offset + bytes.byteLength);
  }
  return buffer;
}

/** Checks an entry read from a header; returns the kind its array is read as. */
function checkEntry([, form, count, logical]: ArrayEntry): Kind {
  const readAs = logical ?? form;
  if (!(form in bytesPer) || !kinds.has(readAs) || !Number.isInteger(count) || count < 0) throw new Error('damaged engram snapshot');
  return readAs as Kind;
}

export function decodeSnapshot(input: Buffer): { header: unknown; arrays: Record<string, Typed> } {
  if (input.length < 8 || input.readUInt32LE(0) !== magic) throw new Error('not an engram snapshot');
  const length = input.readUInt32LE(4);
  const meta = JSON.parse(input.subarray(8, 8 + length).toString('utf8')) as { header: unknown; arrays: ArrayEntry[] };
  const arrays: Record<string, Typed> = {};
  let offset = align(8 + length);
  for (const entry of meta.arrays) {
    const [name, form, count, , value] = entry;
    const array = allocate(checkEntry(entry), count);
    const size = count * bytesPer[form];
    if (offset + size > input.length) throw new Error('truncated engram snapshot');
    // A copy: the stored bytes need not be aligned for their kind.
    widen(form, Uint8Array.prototype.slice.call(input, offset, offset + size), array, value);
    arrays[name] = array;
    offset = align(offset + size);
  }
  return { header: meta.header, arrays };
}

function view(kind: Kind, buffer: ArrayBufferLike, start: number, count: number): Typed {
  return kind === 'i32'
    ? new Int32Array(buffer, start, count)
    : kind === 'f32'
      ? new Float32Array(buffer, start, count)
      : kind === 'f64'
        ? new Float64Array(buffer, start, count)
        : kind === 'u16'
          ? new Uint16Array(buffer, start, count)
          : new Uint8Array(buffer, start, count);
}

function allocate(kind: Kind, count: number): Typed {
  return kind === 'i32'
    ? new Int32Array(count)
    : kind === 'f32'
      ? new Float32Array(count)
      : kind === 'f64'
        ? new Float64Array(count)
        : kind === 'u16'
          ? new Uint16Array(count)
          : new Uint8Array(count);
}

/** `SnapshotFile.readInto` widens a narrow array through this buffer, this many bytes at a time. */
const widenChunkBytes = 192 * 1024;
let widenScratch: Uint8Array | null = null;
/** `SnapshotFile.sameArray` compares two arrays' bytes through these. */
let compareScratch: [Uint8Array, Uint8Array] | null = null;

/** Where an array of a snapshot file is, and how it is stored. */
interface FileEntry {
  form: Form;
  logical: Kind;
  count: number;
  offset: number;
  value: string | undefined;
}

/**
 * An open snapshot file (`encodeSnapshot`'s layout) whose arrays are read when asked for, each
 * straight into its typed array (no whole-file buffer, no second copy), or a range of one: what
 * lets a 1M-memory index open in a fraction of the file's size and page in the rest on demand.
 *
 * It holds the file open: a newer snapshot renamed over it leaves this one readable (POSIX keeps
 * an unlinked file while it is open). `close` when done; reads after that throw. Reads started by
 * `readIntoInBackground` finish first: the descriptor is closed after the last of them.
 */
export class SnapshotFile {
  private descriptor: number | null;
  private readonly entries = new Map<string, FileEntry>();
  /** Background reads not finished yet, and whether `close` was called meanwhile. */
  private inFlight = 0;
  private closing = false;

  private constructor(
    descriptor: number,
    readonly header: unknown,
    arrays: ArrayEntry[],
    start: number,
    size: number,
  ) {
    this.descriptor = descriptor;
    let offset = start;
    for (const entry of arrays) {
      const [name, form, count, , value] = entry;
      const logical = checkEntry(entry);
      this.entries.set(name, { form, logical, count, offset, value });
      offset = align(offset + count * bytesPer[form]);
    }
    if (offset > size) throw new Error('truncated engram snapshot');
  }

  /** Opens and checks a snapshot file, reading only its header. Throws when it is not one. */
  static open(path: string): SnapshotFile {
    const descriptor = openSync(path, 'r');
    try {
      const size = fstatSync(descriptor).size;
      const prefix = Buffer.alloc(8);
      if (size < 8 || readSync(descriptor, prefix, 0, 8, 0) !== 8 || prefix.readUInt32LE(0) !== magic) {
        throw new Error('not an engram snapshot');
      }
      const length = prefix.readUInt32LE(4);
      if (8 + length > size) throw new Error('truncated engram snapshot');
      const json = Buffer.alloc(length);
      if (readSync(descriptor, json, 0, length, 8) !== length) throw new Error('truncated engram snapshot');
      const meta = JSON.parse(json.toString('utf8')) as { header: unknown; arrays: ArrayEntry[] };
      return new SnapshotFile(descriptor, meta.header, meta.arrays, align(8 + length), size);
    } catch (error) {
      closeSync(descriptor);
      throw error;
    }
  }

  /** Whether the file holds an array of this name. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The one value every element of array `name` holds, when it was stored as that value alone; else undefined. */
  filledWith(name: string): number | undefined {
    const entry = this.entry(name);
    return entry.form === 'fill' ? Number(entry.value) : undefined;
  }

  /**
   * Whether array `name` here and array `otherName` of `other` hold the same values stored the
   * same way (both absent counts as the same): equal entries, then equal bytes, compared a chunk
   * at a time through two small buffers. False when either file cannot be read.
   */
  sameArray(name: string, other: SnapshotFile, otherName: string): boolean {
    const mine = this.entries.get(name);
    const theirs = other.entries.get(otherName);
    if (mine === undefined || theirs === undefined) return mine === theirs;
    if (mine.form !== theirs.form || mine.logical !== theirs.logical || mine.count !== theirs.count || mine.value !== theirs.value) {
      return false;
    }
    const total = mine.count * bytesPer[mine.form];
    if (compareScratch === null) compareScratch = [new Uint8Array(widenChunkBytes), new Uint8Array(widenChunkBytes)];
    const [left, right] = compareScratch;
    try {
      for (let done = 0; done < total; done += widenChunkBytes) {
        const length = Math.min(widenChunkBytes, total - done);
        this.readRange(mine, left.subarray(0, length), done);
        other.readRange(theirs, right.subarray(0, length), done);
        if (Buffer.compare(left.subarray(0, length), right.subarray(0, length)) !== 0) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** The number of elements of array `name` (0 when absent). */
  length(name: string): number {
    return this.entries.get(name)?.count ?? 0;
  }

  /** Elements `from` … `to` − 1 of array `name` (the whole array by default), in a new typed array of the kind saved. */
  read(name: string, from = 0, to?: number): Typed {
    const entry = this.entry(name);
    const end = to ?? entry.count;
    const array = allocate(entry.logical, Math.max(0, end - from)) as Typed;
    this.readInto(name, array, from);
    return array;
  }

  /**
   * Array `name` of whole numbers saved as `i32`, read in the narrowest kind that holds what was
   * stored — a Uint8Array or Uint16Array when the values fit one or two bytes, else an Int32Array
   * — with room for `capacity` elements (the rest zero): no widening pass, a quarter or half of the
   * memory. The caller widens it when it must hold a larger value (see `SlotColumns`).
   */
  readNarrow(name: string, capacity: number): Int32Array | Uint16Array | Uint8Array {
    const entry = this.entry(name);
    if (entry.logical !== 'i32' || capacity < entry.count)
      throw new Error(`snapshot array ${name}: not whole numbers that fit ${capacity}`);
    const filled = entry.form === 'fill' ? Number(entry.value) : 0;
    const kind: Kind =
      entry.form === 'u8' || entry.form === 'u16'
        ? entry.form
        : entry.form === 'fill' && filled >= 0 && filled <= 0xffff
          ? filled <= 0xff
            ? 'u8'
            : 'u16'
          : 'i32';
    const array = allocate(kind, capacity) as Int32Array | Uint16Array | Uint8Array;
    const part = array.subarray(0, entry.count);
    // A column of one value (zero: a null column) costs no read, and zero no write either.
    if (entry.form === 'fill') {
      if (filled !== 0) part.fill(filled);
    } else if (kind === 'i32') this.readInto(name, part);
    else this.readBytes(entry, new Uint8Array(part.buffer, part.byteOffset, part.byteLength), 0);
    return array;
  }

  /** Fills `target` (of the kind saved) with the elements of array `name` from element `from`. */
  readInto(name: string, target: Typed, from = 0): void {
    const entry = this.entry(name);
    if (kindOf(target) !== entry.logical || from < 0 || from + target.length > entry.count) {
      throw new Error(`snapshot array ${name}: read of ${target.length} from ${from} out of range`);
    }
    if (entry.form === entry.logical) this.readBytes(entry, new Uint8Array(target.buffer, target.byteOffset, target.byteLength), from);
    else if (entry.form === 'fill') widen('fill', new Uint8Array(0), target, entry.value);
    else {
      // Stored narrower: read the stored bytes a chunk at a time into one small buffer (it stays
      // in the CPU cache, and a 1M-element column allocates no second copy of itself), widening
      // each chunk into its place in the target.
      const width = bytesPer[entry.form];
      const chunk = Math.floor(widenChunkBytes / width);
      if (widenScratch === null) widenScratch = new Uint8Array(widenChunkBytes);
      for (let start = 0; start < target.length; start += chunk) {
        const part = target.subarray(start, Math.min(target.length, start + chunk));
        const bytes = widenScratch.subarray(0, part.length * width);
        this.readBytes(entry, bytes, from + start);
        widen(entry.form, bytes, part, entry.value);
      }
    }
  }

  /**
   * Like `readInto` for a whole array stored as the kind saved (no widening: the bytes go straight
   * into `target`), but on libuv's thread pool: the calling thread goes on with other work while
   * the kernel copies the bytes. Resolves when `target` holds them; rejects on a read error or a
   * short file. `target` must not be written until then (the read would overwrite it).
   */
  readIntoInBackground(name: string, target: Typed): Promise<void> {
    const entry = this.entry(name);
    if (this.descriptor === null || this.closing) return Promise.reject(new Error('snapshot file closed'));
    if (kindOf(target) !== entry.logical || entry.form !== entry.logical || target.length !== entry.count) {
      return Promise.reject(new Error(`snapshot array ${name}: a background read needs the whole array, stored as ${entry.logical}`));
    }
    const descriptor = this.descriptor;
    const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    this.inFlight += 1;
    return new Promise<void>((resolve, reject) => {
      const step = (done: number) => {
        if (done === bytes.length) return finish(null);
        read(descriptor, bytes, done, bytes.length - done, entry.offset + done, (error, count) => {
          if (error) finish(error);
          else if (count === 0) finish(new Error('truncated engram snapshot'));
          else step(done + count);
        });
      };
      const finish = (error: Error | null) => {
        this.inFlight -= 1;
        if (this.closing && this.inFlight === 0) this.close();
        if (error) reject(error);
        else resolve();
      };
      step(0);
    });
  }

  private readBytes(entry: FileEntry, bytes: Uint8Array, from: number): void {
    this.readRange(entry, bytes, from * bytesPer[entry.form]);
  }

  /** Fills `bytes` with the stored bytes of `entry` from byte `at` of its array. */
  private readRange(entry: FileEntry, bytes: Uint8Array, at: number): void {
    // (Closing with background reads in flight: the descriptor is still this file's.)
    if (this.descriptor === null) throw new Error('snapshot file closed');
    const position = entry.offset + at;
    let done = 0;
    while (done < bytes.length) {
      const read = readSync(this.descriptor, bytes, done, bytes.length - done, position + done);
      if (read === 0) throw new Error('truncated engram snapshot');
      done += read;
    }
  }

  close(): void {
    if (this.descriptor === null) return;
    // A descriptor closed under a background read could be reused by another open meanwhile.
    this.closing = true;
    if (this.inFlight > 0) return;
    closeSync(this.descriptor);
    this.descriptor = null;
  }

  private entry(name: string): FileEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`snapshot has no array ${name}`);
    return entry;
  }
}

/** What a snapshot records besides its arrays: which log entry it reflects, and what must match. */
export interface SnapshotMeta {
  /** Layout version: a snapshot of another version is ignored. */
  version: number;
  /** The last change-log entry the snapshot reflects. */
  seq: number;
  /** Anything else that must match for the snapshot to be usable (dimensions, weights…). */
  [key: string]: unknown;
}

/**
 * Where the snapshot `name` of this database lives: a file beside it (`memory.db-lexical.snapshot`),
 * read with one `readFileSync` (SQLite reads a large blob page by page, ~5x slower). Null for an
 * in-memory database.
 */
function snapshotFile(session: SqliteSession, name: string): string | null {
  const file = session.db.name;
  if (session.db.memory || !file || file === ':memory:') return null;
  return `${file}-${name}.snapshot`;
}

/** Whether a process with this id is running (a signal-0 probe; EPERM means it runs as another user). */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes snapshot temporary files (`memory.db-<name>.snapshot.<pid>.tmp`) left by a process
 * that died while writing one: nothing else ever would. A file of a live process (another
 * connection writing its snapshot right now) is left alone. Never throws. Returns what it removed.
 */
export function removeStaleSnapshotFiles(databaseFile: string): string[] {
  const removed: string[] = [];
  if (!databaseFile || databaseFile === ':memory:') return removed;
  const prefix = `${basename(databaseFile)}-`;
  const pattern = /^(.*)\.snapshot\.(\d+)\.tmp$/;
  try {
    const folder = dirname(databaseFile);
    for (const entry of readdirSync(folder)) {
      if (!entry.startsWith(prefix)) continue;
      const match = pattern.exec(entry.slice(prefix.length));
      if (!match) continue;
      const pid = Number(match[2]);
      if (pid !== process.pid && processIsAlive(pid)) continue;
      const path = join(folder, entry);
      rmSync(path, { force: true });
      removed.push(path);
    }
  } catch {
    // An unreadable folder: leave the files, the store still works.
  }
  return removed;
}

/** Deletes every persisted index snapshot of this database (after an erasure). Never throws. */
export function removeSnapshots(session: SqliteSession): void {
  for (const name of ['lexical', 'vectors']) {
    const file = snapshotFile(session, name);
    if (file !== null) rmSync(file, { force: true });
  }
  if (!session.db.memory) removeStaleSnapshotFiles(session.db.name);
}

/**
 * This database's identity (created on first use, in `engram_meta`): a snapshot records it, so a
 * file left beside a database that was deleted and created again is never taken for its own.
 */
function databaseId(session: SqliteSession, create: boolean): string | null {
  const read = () => session.statement("SELECT value FROM engram_meta WHERE key = 'database_id'").pluck().get() as string | undefined;
  const found = read();
  if (found !== undefined || !create) return found ?? null;
  session.write(() => {
    session.statement("INSERT INTO engram_meta (key, value) VALUES ('database_id', ?) ON CONFLICT (key) DO NOTHING").run(randomUUID());
  });
  return read() ?? null;
}

/** The memory rowids of log entries seq-7 … seq that the log still holds (a fingerprint of its history). */
function logTail(session: SqliteSession, seq: number): number[] {
  return session
    .statement('SELECT memory_rowid FROM memory_vector_log WHERE seq > ? AND seq <= ? ORDER BY seq')
    .pluck()
    .all(seq - 8, seq) as number[];
}

/**
 * Persists an in-memory index as `name`, replacing the previous one (written to a temporary file,
 * then renamed: readers see the old file or the new one). Never waits for another process's
 * write lock and never throws: a snapshot only saves work. Returns whether it was written.
 */
export function saveSnapshot(
  session: SqliteSession,
  name: string,
  meta: SnapshotMeta,
  header: unknown,
  arrays: Record<string, Typed>,
): boolean {
  const file = snapshotFile(session, name);
  if (file === null) return false;
  const { db } = session;
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    db.pragma('busy_timeout = 0');
    // An index loaded before an erasure may still hold erased words: never persist it.
    if (meta.seq < readErasedSeq(session)) return false;
    const database = databaseId(session, true);
    const tail = logTail(session, meta.seq);
    writeFileSync(temporary, encodeSnapshot({ meta, database, tail, header }, arrays));
    renameSync(temporary, file);
    recordSnapshotSeq(session, name, meta.seq);
    return true;
  } catch {
    // Busy, read-only or full: the next connection builds the index from the rows instead.
    rmSync(temporary, { force: true });
    return false;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

/**
 * The persisted index `name`, opened (`SnapshotFile`: arrays are read when asked for), when it
 * belongs to this database, `usable(meta)` holds and the change log still holds every entry after
 * it (so the caller can replay them); else null. Call inside a read transaction, with the reads
 * that follow. The caller closes the file. Throws on a damaged snapshot.
 */
export function readSnapshot(
  session: SqliteSession,
  name: string,
  usable: (meta: SnapshotMeta) => boolean,
): { meta: SnapshotMeta; header: unknown; file: SnapshotFile } | null {
  const path = snapshotFile(session, name);
  if (path === null || !existsSync(path)) return null;
  const database = databaseId(session, false);
  if (database === null) return null;
  const file = SnapshotFile.open(path);
  try {
    const {
      meta,
      database: owner,
      tail,
      header,
    } = file.header as {
      meta: SnapshotMeta;
      database: string;
      tail: number[];
      header: unknown;
    };
    if (owner !== database || !usable(meta) || meta.seq < readErasedSeq(session)) return release(file);
    // The log must still hold the snapshot's last entries, unchanged (a database file restored
    // from an older backup and written since would not), and every entry after them.
    if (readLogHead(session) < meta.seq || JSON.stringify(logTail(session, meta.seq)) !== JSON.stringify(tail)) return release(file);
    if (meta.seq > 0 && tail.length === 0) return release(file);
    return { meta, header, file };
  } catch (error) {
    file.close();
    throw error;
  }
}

function release(file: SnapshotFile): null {
  file.close();
  return null;
}
