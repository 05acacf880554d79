import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readErasedSeq, readLogHead } from './sqlite-change-log.js';
import type { SqliteSession } from './sqlite-session.js';

/**
 * A compact binary form for in-memory indexes persisted in SQLite: a JSON header and named typed
 * arrays, each 8-byte aligned.
 *
 *   u32 magic · u32 header bytes · header JSON · padding · array bytes · padding · …
 *
 * An array is stored in the narrowest kind that holds its values exactly (`narrowKind`): BM25
 * term frequencies and document lengths (whole numbers in a Float32Array) as one or two bytes,
 * small ids as one or two bytes, rowids (whole numbers in a Float64Array) as four. The header
 * records both kinds, and reads give back the kind that was saved: ~70 bytes a memory less on
 * disk at 1M. (Files written before this record one kind and read as before.)
 */
export type Typed = Int32Array | Float32Array | Float64Array | Uint8Array;
/** What an array may be stored as: `Typed`, or two-byte whole numbers (never a caller's kind). */
type Stored = Typed | Uint16Array;
type Kind = 'i32' | 'f32' | 'f64' | 'u8' | 'u16';
/** An array's entry in the header: name, stored kind, element count, and the kind it is read as when that differs. */
type ArrayEntry = [name: string, stored: Kind, count: number, logical?: Kind];

const magic = 0x454e4731; // "ENG1"

const kindOf = (array: Stored): Kind =>
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

/** The narrowest kind that holds every value of `array` exactly (its own kind when none does). */
function narrowKind(array: Typed): Kind {
  const kind = kindOf(array);
  if (kind === 'u8') return kind;
  let smallest = 0;
  let largest = 0;
  for (let index = 0; index < array.length; index++) {
    const value = array[index] as number;
    // NaN, fractions and -0 (which a whole-number kind would read back as 0) keep the array's kind.
    if (!Number.isInteger(value) || Object.is(value, -0)) return kind;
    if (value < smallest) smallest = value;
    else if (value > largest) largest = value;
  }
  if (smallest >= 0 && largest <= 0xff) return 'u8';
  if (smallest >= 0 && largest <= 0xffff) return 'u16';
  if (kind === 'f64' && smallest >= -0x8000_0000 && largest <= 0x7fff_ffff) return 'i32';
  return kind;
}

/** `array`'s values in an array of `kind` (the same array when it is of that kind already). */
function convert(array: Stored, kind: Kind): Stored {
  if (kindOf(array) === kind) return array;
  const out = allocate(kind, array.length);
  out.set(array);
  return out;
}

export function encodeSnapshot(header: unknown, arrays: Record<string, Typed>): Buffer {
  const names = Object.keys(arrays);
  const stored = names.map((name) => {
    const array = arrays[name] as Typed;
    return convert(array, narrowKind(array));
  });
  const entries: ArrayEntry[] = names.map((name, index) => {
    const logical = kindOf(arrays[name] as Typed);
    const kind = kindOf(stored[index] as Stored);
    return kind === logical ? [name, kind, (stored[index] as Stored).length] : [name, kind, (stored[index] as Stored).length, logical];
  });
  const json = Buffer.from(JSON.stringify({ header, arrays: entries }));
  let total = align(8 + json.length);
  for (const array of stored) total = align(total + array.byteLength);
  const buffer = Buffer.alloc(total);
  buffer.writeUInt32LE(magic, 0);
  buffer.writeUInt32LE(json.length, 4);
  json.copy(buffer, 8);
  let offset = align(8 + json.length);
  for (const array of stored) {
    buffer.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
    offset = align(offset + array.byteLength);
  }
  return buffer;
}

export function decodeSnapshot(input: Buffer): { header: unknown; arrays: Record<string, Typed> } {
  // Views need 8-byte alignment: copy when the buffer does not start on it.
  const buffer = input.byteOffset % 8 === 0 ? input : Buffer.from(Uint8Array.prototype.slice.call(input));
  if (buffer.length < 8 || buffer.readUInt32LE(0) !== magic) throw new Error('not an engram snapshot');
  const length = buffer.readUInt32LE(4);
  const meta = JSON.parse(buffer.subarray(8, 8 + length).toString('utf8')) as { header: unknown; arrays: ArrayEntry[] };
  const arrays: Record<string, Typed> = {};
  let offset = align(8 + length);
  for (const [name, kind, count, logical] of meta.arrays) {
    const start = buffer.byteOffset + offset;
    if (offset + count * bytesPer[kind] > buffer.length) throw new Error('truncated engram snapshot');
    if (kind === 'u16' && logical === undefined) throw new Error('damaged engram snapshot');
    const array = view(kind, buffer.buffer, start, count);
    arrays[name] = (logical ? convert(array, logical) : array) as Typed;
    offset = align(offset + array.byteLength);
  }
  if (offset > buffer.length) throw new Error('truncated engram snapshot');
  return { header: meta.header, arrays };
}

function view(kind: Kind, buffer: ArrayBufferLike, start: number, count: number): Stored {
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

const bytesPer: Record<Kind, number> = { i32: 4, f32: 4, f64: 8, u8: 1, u16: 2 };

function allocate(kind: Kind, count: number): Stored {
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

/**
 * An open snapshot file (`encodeSnapshot`'s layout) whose arrays are read when asked for, each
 * straight into its typed array (no whole-file buffer, no second copy), or a range of one: what
 * lets a 1M-memory index open in a fraction of the file's size and page in the rest on demand.
 *
 * It holds the file open: a newer snapshot renamed over it leaves this one readable (POSIX keeps
 * an unlinked file while it is open). `close` when done; reads after that throw.
 */
export class SnapshotFile {
  private descriptor: number | null;
  private readonly entries = new Map<string, { kind: Kind; logical: Kind; count: number; offset: number }>();

  private constructor(
    descriptor: number,
    readonly header: unknown,
    arrays: ArrayEntry[],
    start: number,
    size: number,
  ) {
    this.descriptor = descriptor;
    let offset = start;
    for (const [name, kind, count, logical] of arrays) {
      const readAs = logical ?? kind;
      if (!(kind in bytesPer) || !(readAs in bytesPer) || readAs === 'u16' || !Number.isInteger(count) || count < 0) {
        throw new Error('damaged engram snapshot');
      }
      this.entries.set(name, { kind, logical: logical ?? kind, count, offset });
      offset = align(offset + count * bytesPer[kind]);
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

  /** Fills `target` (of the kind saved) with the elements of array `name` from element `from`. */
  readInto(name: string, target: Typed, from = 0): void {
    const entry = this.entry(name);
    if (kindOf(target) !== entry.logical || from < 0 || from + target.length > entry.count) {
      throw new Error(`snapshot array ${name}: read of ${target.length} from ${from} out of range`);
    }
    if (entry.kind === entry.logical) this.readStored(entry, target, from);
    else {
      // Stored narrower: read the stored values, then widen them into the target.
      const stored = allocate(entry.kind, target.length);
      this.readStored(entry, stored, from);
      target.set(stored);
    }
  }

  private readStored(entry: { kind: Kind; offset: number }, target: Stored, from: number): void {
    if (this.descriptor === null) throw new Error('snapshot file closed');
    const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    const position = entry.offset + from * bytesPer[entry.kind];
    let done = 0;
    while (done < bytes.length) {
      const read = readSync(this.descriptor, bytes, done, bytes.length - done, position + done);
      if (read === 0) throw new Error('truncated engram snapshot');
      done += read;
    }
  }

  close(): void {
    if (this.descriptor === null) return;
    closeSync(this.descriptor);
    this.descriptor = null;
  }

  private entry(name: string): { kind: Kind; logical: Kind; count: number; offset: number } {
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
