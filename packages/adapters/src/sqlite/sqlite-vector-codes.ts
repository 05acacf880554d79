/**
 * Binary codes for approximate vector search.
 *
 * A vector is zero-padded to a power of two, rotated by a fixed randomized Hadamard transform
 * (two rounds of random sign flips, each followed by a fast Walsh–Hadamard transform), and only the
 * sign of each rotated coordinate is kept: one bit. The rotation spreads every input — dense
 * neural embeddings and sparse hash embeddings alike — over all coordinates, so the fraction of
 * differing bits between two codes estimates the angle between the vectors (SimHash). Plain
 * sign bits of the raw vector do not: measured on 10k hash-embedded texts, the sign bits of the
 * raw vectors put only 4–29 % of the true top 10 among the 40–1,000 nearest codes.
 *
 * Codes have at least 1,024 bits (several independent rotations when the padded dimension is
 * smaller). Search uses them in two approximate stages before the exact one:
 * 1. Hamming distance on the first `hammingBytes` of each code (the first rotation, up to 512
 *    bits), computed for every candidate;
 * 2. for the best of those, an asymmetric estimate over the whole code: the rotated query,
 *    quantised to 4 bits a value, dotted with each code's bits (popcounts of bit planes);
 * 3. exact cosine similarity on the float vectors of the best of those.
 *
 * The layout is a pure function of the dimension and `codeVersion`; a store records both, and
 * re-encodes its codes from the float vectors if they ever change.
 */

import { seededRandom } from '@engram/core';
import { planeCount } from './sqlite-vector-kernel.js';

/** Bump when the encoding changes: stores then re-encode from their float vectors on open. */
export const codeVersion = 1;

const minimumCodeBits = 1024;
const maximumHammingBytes = 64;
/** Rotation rounds: 1, 2 and 3 measured the same recall on hash embeddings; 2 keeps a margin for structured inputs. */
const rounds = 2;
const seed = 0x5eed_c0de;
const planeLevels = 2 ** planeCount - 1;

export interface CodeLayout {
  dimensions: number;
  /** The dimension padded to a power of two: the length of one rotation. */
  padded: number;
  /** Independent rotations concatenated into one code. */
  copies: number;
  /** Bytes per code (bits / 8, a multiple of 8). */
  bytes: number;
  /** Leading bytes compared by Hamming distance in the first stage (a multiple of 8). */
  hammingBytes: number;
}

export function codeLayout(dimensions: number): CodeLayout {
  let padded = 8;
  while (padded < dimensions) padded *= 2;
  const copies = Math.max(1, Math.ceil(minimumCodeBits / padded));
  const bytes = (padded * copies) / 8;
  return { dimensions, padded, copies, bytes, hammingBytes: Math.min(bytes, maximumHammingBytes) };
}

/** Encodes vectors into codes, and queries into what the search stages compare codes with. */
export class VectorCoder {
  readonly layout: CodeLayout;
  /** ±1 per padded coordinate, per round, per copy. */
  private readonly signs: Float64Array[];
  private readonly scratch: Float64Array;
  /** Where `queryPlanes` writes by default, reused from query to query. */
  private readonly planes: Uint8Array;
  private readonly bounds = new Float64Array(2);
  /**
   * The last query's rotations (every copy, one after the other) and that query, as a copy: a
   * search asks for the query's code and then its planes, and rotating it once serves both.
   */
  private readonly queryRotations: Float64Array;
  private readonly rotatedQuery: Float32Array;
  private rotatedQueryValid = false;

  constructor(dimensions: number) {
    this.layout = codeLayout(dimensions);
    const { padded, copies } = this.layout;
    const random = seededRandom(seed);
    this.signs = Array.from({ length: copies * rounds }, () => {
      const signs = new Float64Array(padded);
      for (let index = 0; index < padded; index++) signs[index] = random() < 0.5 ? -1 : 1;
      return signs;
    });
    this.scratch = new Float64Array(padded);
    this.planes = new Uint8Array(planeCount * this.layout.bytes);
    this.queryRotations = new Float64Array(padded * copies);
    this.rotatedQuery = new Float32Array(dimensions);
  }

  /** Writes the code of `vector` at `out[offset .. offset + bytes)`. */
  encode(vector: Float32Array, out: Uint8Array, offset = 0): void {
    const { padded, copies } = this.layout;
    const rotated = this.scratch;
    for (let copy = 0; copy < copies; copy++) {
      this.rotate(vector, copy, rotated);
      packSigns(rotated, padded, out, offset + (copy * padded) / 8);
    }
  }

  /** The query's own code, for the Hamming stage (`out`: a buffer of `bytes` or more to write it into). */
  queryCode(vector: Float32Array, out: Uint8Array = new Uint8Array(this.layout.bytes)): Uint8Array {
    packSigns(this.rotateQuery(vector), this.layout.bytes * 8, out, 0);
    return out;
  }

  /** The query's own code's first `hammingBytes` (what the Hamming stage compares), into `out`. */
  queryHammingCode(vector: Float32Array, out: Uint8Array): void {
    packSigns(this.rotateQuery(vector), this.layout.hammingBytes * 8, out, 0);
  }

  /**
   * The query for the estimate stage. Its rotations (`bytes` × 8 values, in code bit order) are
   * quantised to 4 bits, `lo + step × u` with u from 0 to 15, and written into `planes` as 4 bit
   * planes of `bytes` bytes each, laid out as codes are: bit j of plane k is bit k of u_j. `lo`
   * and `step` go into `bounds`. A code's estimate of its vector's similarity to the query is then
   * the sum of the quantised values where the code has a 1 bit:
   * lo × popcount(code) + step × Σ_k 2^k × popcount(code AND plane k), which ranks codes as
   * Σ ±(rotated value) does (the two differ by a factor 2 and a constant of the query) up to the
   * rounding. Whole-word popcounts took half the CPU of a lookup table entry a byte (the estimate
   * stage was ~18 % of a REST search at 10k memories); recall: bench/README.md (ANN).
   * The defaults are this coder's own buffers, overwritten by the next call.
   */
  queryPlanes(
    vector: Float32Array,
    planes: Uint8Array = this.planes,
    bounds: Float64Array = this.bounds,
  ): { planes: Uint8Array; bounds: Float64Array } {
    const rotated = this.rotateQuery(vector);
    const { bytes } = this.layout;
    const count = bytes * 8;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < count; index++) {
      const value = rotated[index] as number;
      if (value < lo) lo = value;
      if (value > hi) hi = value;
    }
    const step = hi > lo ? (hi - lo) / planeLevels : 0;
    planes.fill(0, 0, planeCount * bytes);
    if (step > 0) {
      for (let index = 0; index < count; index++) {
        const level = Math.round(((rotated[index] as number) - lo) / step);
        if (level === 0) continue;
        const byte = index >> 3;
        const bit = 1 << (index & 7);
        for (let plane = 0; plane < planeCount; plane++) {
          if ((level >> plane) & 1) planes[plane * bytes + byte] = (planes[plane * bytes + byte] as number) | bit;
        }
      }
    }
    bounds[0] = lo;
    bounds[1] = step;
    return { planes, bounds };
  }

  /**
   * Every rotation of `vector` (`copies` × `padded` values, copy after copy), in a buffer this
   * coder reuses: valid until the next call. The last query's are kept, so its code and its planes
   * cost one rotation (compared bit for bit: a signed zero is another query).
   */
  private rotateQuery(vector: Float32Array): Float64Array {
    const { padded, copies, dimensions } = this.layout;
    const last = this.rotatedQuery;
    let same = this.rotatedQueryValid && vector.length === dimensions;
    for (let index = 0; same && index < dimensions; index++) {
      const value = vector[index] as number;
      const previous = last[index] as number;
      same = value === previous && (value !== 0 || 1 / value === 1 / previous);
    }
    if (same) return this.queryRotations;
    this.rotatedQueryValid = false;
    for (let copy = 0; copy < copies; copy++) {
      this.rotate(vector, copy, this.scratch);
      this.queryRotations.set(this.scratch, copy * padded);
    }
    if (vector.length === dimensions) {
      last.set(vector);
      this.rotatedQueryValid = true;
    }
    return this.queryRotations;
  }

  /** The padded vector after rotation `copy` (unnormalised: only signs and ratios matter). */
  private rotate(vector: Float32Array, copy: number, out: Float64Array): void {
    const { padded, dimensions } = this.layout;
    const first = this.signs[copy * rounds] as Float64Array;
    for (let index = 0; index < dimensions; index++) out[index] = (vector[index] as number) * (first[index] as number);
    out.fill(0, dimensions);
    walshHadamard(out, padded);
    for (let round = 1; round < rounds; round++) {
      const signs = this.signs[copy * rounds + round] as Float64Array;
      for (let index = 0; index < padded; index++) out[index] = (out[index] as number) * (signs[index] as number);
      walshHadamard(out, padded);
    }
  }
}

/** One bit per value (1 when positive), 8 values a byte, least significant bit first. */
function packSigns(values: Float64Array, length: number, out: Uint8Array, offset: number): void {
  for (let byte = 0; byte < length / 8; byte++) {
    const at = byte * 8;
    out[offset + byte] =
      ((values[at] as number) > 0 ? 1 : 0) |
      ((values[at + 1] as number) > 0 ? 2 : 0) |
      ((values[at + 2] as number) > 0 ? 4 : 0) |
      ((values[at + 3] as number) > 0 ? 8 : 0) |
      ((values[at + 4] as number) > 0 ? 16 : 0) |
      ((values[at + 5] as number) > 0 ? 32 : 0) |
      ((values[at + 6] as number) > 0 ? 64 : 0) |
      ((values[at + 7] as number) > 0 ? 128 : 0);
  }
}

/** In-place fast Walsh–Hadamard transform (unnormalised) of the first `length` (≥ 8) values. */
function walshHadamard(values: Float64Array, length: number): void {
  // The first three levels as one radix-8 pass (short inner loops cost more than the arithmetic).
  for (let start = 0; start < length; start += 8) {
    const a0 = values[start] as number;
    const a1 = values[start + 1] as number;
    const a2 = values[start + 2] as number;
    const a3 = values[start + 3] as number;
    const a4 = values[start + 4] as number;
    const a5 = values[start + 5] as number;
    const a6 = values[start + 6] as number;
    const a7 = values[start + 7] as number;
    const b0 = a0 + a1;
    const b1 = a0 - a1;
    const b2 = a2 + a3;
    const b3 = a2 - a3;
    const b4 = a4 + a5;
    const b5 = a4 - a5;
    const b6 = a6 + a7;
    const b7 = a6 - a7;
    const c0 = b0 + b2;
    const c1 = b1 + b3;
    const c2 = b0 - b2;
    const c3 = b1 - b3;
    const c4 = b4 + b6;
    const c5 = b5 + b7;
    const c6 = b4 - b6;
    const c7 = b5 - b7;
    values[start] = c0 + c4;
    values[start + 1] = c1 + c5;
    values[start + 2] = c2 + c6;
    values[start + 3] = c3 + c7;
    values[start + 4] = c0 - c4;
    values[start + 5] = c1 - c5;
    values[start + 6] = c2 - c6;
    values[start + 7] = c3 - c7;
  }
  // Then two levels a pass (radix 4: the same sums in the same order, so the same bits, with
  // half the loads and stores), and a last single level when an odd number remain.
  let half = 8;
  for (; half * 4 <= length; half *= 4) {
    for (let start = 0; start < length; start += half * 4) {
      const end = start + half;
      for (let index = start; index < end; index++) {
        const a = values[index] as number;
        const b = values[index + half] as number;
        const c = values[index + 2 * half] as number;
        const d = values[index + 3 * half] as number;
        const sum = a + b;
        const difference = a - b;
        const sum2 = c + d;
        const difference2 = c - d;
        values[index] = sum + sum2;
        values[index + half] = difference + difference2;
        values[index + 2 * half] = sum - sum2;
        values[index + 3 * half] = difference - difference2;
      }
    }
  }
  for (; half < length; half *= 2) {
    for (let start = 0; start < length; start += half * 2) {
      const end = start + half;
      for (let index = start; index < end; index++) {
        const a = values[index] as number;
        const b = values[index + half] as number;
        values[index] = a + b;
        values[index + half] = a - b;
      }
    }
  }
}
