/**
 * How `memory_embeddings` stores a vector: scalar-quantised to int8 with its own scale.
 *
 * A row's blob is 4 bytes of little-endian float32 scale followed by one signed byte per
 * dimension: value ≈ scale × byte, where scale = max |value| / m for an m from 96 to 127
 * (`encodeStoredVector` says which). A 384-d vector takes 388
 * bytes instead of 1,536. Cosine similarity does not depend on the scale, so the exact stage of a
 * search compares the float query with the stored bytes directly; the per-vector scale only
 * matters when a vector is read back (`decodeStoredVector`).
 *
 * Files from before migration 0010 hold float32 blobs (4 bytes a dimension). A blob's length
 * tells the two apart (4d = d + 4 has no whole solution), so every reader accepts both; the
 * migration rewrites the old ones.
 */

/** The smallest largest-byte the scale search tries (see `encodeStoredVector`). */
const smallestTop = 96;
/** Non-zero values the scale search measures its error on, at most. */
const sampled = 64;
/** Scratch for the scale search: a vector's non-zero values. */
let nonZero = new Float64Array(1024);

/**
 * The stored form of a vector (see the module comment). The scale is max |value| / m for the m
 * from 127 down to 96 whose rounding loses the least (squared error; an exact one ends the
 * search): vectors whose values are whole multiples of one unit — counts — then quantise
 * exactly, and others lose less than with m = 127 alone. Measured on the bench's hash embeddings
 * (counts with some sublinear weights): m = 127 alone lost 1 % of recall@10 at 100k against
 * float32 storage, the search 0.2 % (`npm run bench -- --suite ann`). The search measures 64 of
 * the non-zero values at most (~5 µs a vector).
 */
export function encodeStoredVector(vector: Float32Array): Buffer {
  const dimensions = vector.length;
  const blob = Buffer.allocUnsafe(4 + dimensions);
  if (nonZero.length < dimensions) nonZero = new Float64Array(dimensions);
  let count = 0;
  let largest = 0;
  let squares = 0;
  for (let index = 0; index < dimensions; index++) {
    const value = vector[index] as number;
    if (value === 0) continue;
    nonZero[count++] = value;
    const magnitude = Math.abs(value);
    if (magnitude > largest) largest = magnitude;
    squares += magnitude * magnitude;
  }
  // NaN or infinite components cannot be quantised; the writers reject them before this.
  let scale = 0;
  if (Number.isFinite(largest) && largest > 0) {
    // The error is measured on at most `sampled` of the non-zero values, spread over the vector
    // (a dense 384-d vector would otherwise cost ~100 µs); "exact" allows float32's rounding.
    const step = Math.max(1, Math.floor(count / sampled));
    const exact = (squares / step) * 1e-12;
    const values = nonZero;
    let leastError = Number.POSITIVE_INFINITY;
    for (let top = 127; top >= smallestTop; top--) {
      const candidate = largest / top;
      let error = 0;
      for (let index = 0; index < count && error < leastError; index += step) {
        const value = values[index] as number;
        const difference = value - Math.round(value / candidate) * candidate;
        error += difference * difference;
      }
      if (error < leastError) {
        leastError = error;
        scale = candidate;
      }
      if (error <= exact) break;
    }
  }
  blob.writeFloatLE(scale, 0);
  // The bytes are rounded against the scale as stored (float32), so decoding multiplies them back exactly.
  const storedScale = blob.readFloatLE(0);
  const bytes = new Int8Array(blob.buffer, blob.byteOffset + 4, dimensions);
  if (storedScale === 0) bytes.fill(0);
  else {
    const inverse = 1 / storedScale;
    for (let index = 0; index < dimensions; index++) {
      // Typed-array stores wrap, so clamp first (a value can round past 127 by float32 rounding).
      const rounded = Math.round((vector[index] as number) * inverse);
      bytes[index] = rounded > 127 ? 127 : rounded < -127 ? -127 : rounded;
    }
  }
  return blob;
}

/** Whether a stored blob is the int8 form (else the float32 form of files before 0010). */
export function isQuantised(blob: Uint8Array, dimensions: number): boolean {
  return blob.byteLength === dimensions + 4;
}

/** A stored vector as floats (the int8 form dequantised), or null when the blob has neither length. */
export function decodeStoredVector(
  blob: Uint8Array,
  dimensions: number,
  out: Float32Array<ArrayBufferLike> = new Float32Array(dimensions),
): Float32Array<ArrayBufferLike> | null {
  if (isQuantised(blob, dimensions)) {
    const scale = new DataView(blob.buffer, blob.byteOffset, 4).getFloat32(0, true);
    const bytes = new Int8Array(blob.buffer, blob.byteOffset + 4, dimensions);
    for (let index = 0; index < dimensions; index++) out[index] = (bytes[index] as number) * scale;
    return out;
  }
  if (blob.byteLength !== dimensions * 4) return null;
  if (blob.byteOffset % 4 === 0) out.set(new Float32Array(blob.buffer, blob.byteOffset, dimensions));
  else out.set(new Float32Array(Uint8Array.prototype.slice.call(blob, 0, dimensions * 4).buffer));
  return out;
}

/**
 * Cosine similarity between a float query (with its precomputed norm) and a stored vector, in
 * either form; 0 when either has no direction (a zero vector), null for a blob of neither length.
 */
export function storedCosine(blob: Uint8Array, query: Float32Array, queryNorm: number): number | null {
  const dimensions = query.length;
  let dot = 0;
  let norm = 0;
  if (isQuantised(blob, dimensions)) {
    const bytes = new Int8Array(blob.buffer, blob.byteOffset + 4, dimensions);
    for (let index = 0; index < dimensions; index++) {
      const value = bytes[index] as number;
      dot += value * (query[index] as number);
      norm += value * value;
    }
  } else {
    const vector = decodeStoredVector(blob, dimensions);
    if (vector === null) return null;
    for (let index = 0; index < dimensions; index++) {
      const value = vector[index] as number;
      dot += value * (query[index] as number);
      norm += value * value;
    }
  }
  if (norm === 0 || queryNorm === 0) return 0;
  return dot / (Math.sqrt(norm) * queryNorm);
}

/** The Euclidean norm of a query. */
export function vectorNorm(vector: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < vector.length; index++) sum += (vector[index] as number) ** 2;
  return Math.sqrt(sum);
}

/** The SQL function migration 0010 rewrites float32 blobs with (registered by `migrateToLatest`). */
export const quantiseFunctionName = 'engram_quantise_vector';

/** `quantiseFunctionName`'s body: a float32 blob (any length that is a multiple of 4) in the int8 form. */
export function quantiseBlob(blob: unknown): Buffer | unknown {
  if (!(blob instanceof Uint8Array) || blob.byteLength % 4 !== 0) return blob;
  const floats = new Float32Array(Uint8Array.prototype.slice.call(blob).buffer);
  return encodeStoredVector(floats);
}
