import { readLogHead } from './sqlite-change-log.js';
import type { SqliteSession } from './sqlite-session.js';

/**
 * A compact binary form for in-memory indexes persisted in SQLite: a JSON header and named typed
 * arrays, each 8-byte aligned so it can be read back as a view without copying.
 *
 *   u32 magic · u32 header bytes · header JSON · padding · array bytes · padding · …
 */
export type Typed = Int32Array | Float32Array | Float64Array | Uint8Array;
type Kind = 'i32' | 'f32' | 'f64' | 'u8';

const magic = 0x454e4731; // "ENG1"

const kindOf = (array: Typed): Kind =>
  array instanceof Int32Array ? 'i32' : array instanceof Float32Array ? 'f32' : array instanceof Float64Array ? 'f64' : 'u8';
const align = (offset: number) => (offset + 7) & ~7;

export function encodeSnapshot(header: unknown, arrays: Record<string, Typed>): Buffer {
  const names = Object.keys(arrays);
  const json = Buffer.from(
    JSON.stringify({ header, arrays: names.map((name) => [name, kindOf(arrays[name] as Typed), (arrays[name] as Typed).length]) }),
  );
  let total = align(8 + json.length);
  for (const name of names) total = align(total + (arrays[name] as Typed).byteLength);
  const buffer = Buffer.alloc(total);
  buffer.writeUInt32LE(magic, 0);
  buffer.writeUInt32LE(json.length, 4);
  json.copy(buffer, 8);
  let offset = align(8 + json.length);
  for (const name of names) {
    const array = arrays[name] as Typed;
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
  const meta = JSON.parse(buffer.subarray(8, 8 + length).toString('utf8')) as { header: unknown; arrays: Array<[string, Kind, number]> };
  const arrays: Record<string, Typed> = {};
  let offset = align(8 + length);
  for (const [name, kind, count] of meta.arrays) {
    const start = buffer.byteOffset + offset;
    const array =
      kind === 'i32'
        ? new Int32Array(buffer.buffer, start, count)
        : kind === 'f32'
          ? new Float32Array(buffer.buffer, start, count)
          : kind === 'f64'
            ? new Float64Array(buffer.buffer, start, count)
            : new Uint8Array(buffer.buffer, start, count);
    arrays[name] = array;
    offset = align(offset + array.byteLength);
  }
  if (offset > buffer.length) throw new Error('truncated engram snapshot');
  return { header: meta.header, arrays };
}

const partBytes = 16 * 1024 * 1024;

/** What `engram_meta` records of a persisted index (key `snapshot:<name>`). */
export interface SnapshotMeta {
  /** Layout version: a snapshot of another version is ignored. */
  version: number;
  /** The last change-log entry the snapshot reflects. */
  seq: number;
  /** Anything else that must match for the snapshot to be usable (dimensions, weights…). */
  [key: string]: unknown;
}

/**
 * Persists an in-memory index as `name` (replacing the previous one): its bytes in
 * `memory_index_snapshot`, `meta` in `engram_meta`. Never waits for another process's write lock
 * and never throws: a snapshot only saves work. Returns whether it was written.
 */
export function saveSnapshot(session: SqliteSession, name: string, meta: SnapshotMeta, buffer: Buffer): boolean {
  const { db } = session;
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  try {
    db.pragma('busy_timeout = 0');
    session.write(() => {
      session.statement('DELETE FROM memory_index_snapshot WHERE name = ?').run(name);
      const insert = session.statement('INSERT INTO memory_index_snapshot (name, part, data) VALUES (?, ?, ?)');
      for (let part = 0; part * partBytes < buffer.length; part++) {
        insert.run(name, part, buffer.subarray(part * partBytes, (part + 1) * partBytes));
      }
      session
        .statement('INSERT INTO engram_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
        .run(`snapshot:${name}`, JSON.stringify(meta));
    });
    return true;
  } catch {
    // Busy, read-only or full: the next connection builds the index from the rows instead.
    return false;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

/**
 * The persisted index `name` when `usable(meta)` and the change log still holds every entry after
 * it (so the caller can replay them); else null. Call inside a read transaction, with the reads
 * that follow. Throws on a damaged snapshot.
 */
export function readSnapshot(
  session: SqliteSession,
  name: string,
  usable: (meta: SnapshotMeta) => boolean,
): { meta: SnapshotMeta; header: unknown; arrays: Record<string, Typed> } | null {
  const value = session.statement('SELECT value FROM engram_meta WHERE key = ?').pluck().get(`snapshot:${name}`) as string | undefined;
  if (value === undefined) return null;
  const meta = JSON.parse(value) as SnapshotMeta;
  if (!usable(meta)) return null;
  const head = readLogHead(session);
  const oldest = session.statement('SELECT min(seq) AS seq FROM memory_vector_log').get() as { seq: number | null };
  const covered = head === meta.seq || (head > meta.seq && oldest.seq !== null && oldest.seq <= meta.seq + 1);
  if (!covered) return null;
  const parts = session.statement('SELECT data FROM memory_index_snapshot WHERE name = ? ORDER BY part').pluck().all(name) as Buffer[];
  return { meta, ...decodeSnapshot(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)) };
}
