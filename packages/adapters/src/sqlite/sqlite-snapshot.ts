/**
 * A compact binary form for in-memory indexes persisted in SQLite: a JSON header and named typed
 * arrays, each 8-byte aligned so it can be read back as a view without copying.
 *
 *   u32 magic · u32 header bytes · header JSON · padding · array bytes · padding · …
 */
type Typed = Int32Array | Float32Array | Float64Array | Uint8Array;
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
