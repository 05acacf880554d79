import { createHash } from 'node:crypto';
import { seededVector } from '@engram/core/testing';
import { describe, expect, it } from 'vitest';
import { codeLayout, VectorCoder } from './sqlite-vector-codes.js';
import { estimatesInJavaScript } from './sqlite-vector-index.js';
import { CodeArena, kernelBytes, maskedDistance, slotDead, slotSuperseded } from './sqlite-vector-kernel.js';

const popcount = (value: number) => {
  let count = 0;
  for (let bits = value; bits !== 0; bits &= bits - 1) count += 1;
  return count;
};

/** Each code bit's level (0–15) in the query's bit planes: bit k of level j is bit j of plane k. */
const levelsOf = (planes: Uint8Array, bytes: number) =>
  Array.from({ length: bytes * 8 }, (_, bit) => {
    let level = 0;
    for (let plane = 0; plane < 4; plane++) level |= (((planes[plane * bytes + (bit >> 3)] as number) >> (bit & 7)) & 1) << plane;
    return level;
  });

describe('vector codes', () => {
  it('lay out at least 1,024 bits, whole 64-bit words, over rotations of the padded dimension', () => {
    expect(codeLayout(384)).toEqual({ dimensions: 384, padded: 512, copies: 2, bytes: 128, hammingBytes: 64 });
    expect(codeLayout(768)).toEqual({ dimensions: 768, padded: 1024, copies: 1, bytes: 128, hammingBytes: 64 });
    expect(codeLayout(1536)).toMatchObject({ padded: 2048, copies: 1, bytes: 256 });
    expect(codeLayout(3)).toMatchObject({ padded: 8, copies: 128, bytes: 128 });
  });

  it('are a pure function of the vector (stored codes stay valid: bump codeVersion to change this)', () => {
    const coder = new VectorCoder(384);
    const code = new Uint8Array(coder.layout.bytes);
    coder.encode(seededVector(1, 384), code);
    expect(createHash('sha256').update(code).digest('hex').slice(0, 16)).toBe(
      createHash('sha256')
        .update(new VectorCoder(384).queryCode(seededVector(1, 384)))
        .digest('hex')
        .slice(0, 16),
    );
    expect(createHash('sha256').update(code).digest('hex')).toBe('791deba8db9c29fe34fb0adbea4f1d0dd0c91a47f855166500b279382e4351f3');
  });

  it('query planes and codes are pinned: the bits the estimate and Hamming stages rank by', () => {
    const digest = (view: ArrayBufferView) =>
      createHash('sha256')
        .update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
        .digest('hex')
        .slice(0, 16);
    const pinned: string[] = [];
    for (const dimensions of [384, 96, 1024, 20]) {
      const vector = seededVector(5, dimensions);
      vector[3] = -0;
      const coder = new VectorCoder(dimensions);
      const { planes, bounds } = coder.queryPlanes(vector);
      const code = coder.queryCode(vector);
      pinned.push(`${dimensions} ${digest(planes)} ${digest(bounds)} ${digest(code)}`);
    }
    // The codes' digests are those of the lookup-table stage before (codes did not change).
    expect(pinned).toEqual([
      '384 ea49cc1d408d5729 6d99341eef3082e7 47fbb08cd8cd4f5c',
      '96 04a25682380882f0 b02467b0e4ccaad8 ece03635391ec09c',
      '1024 a009b0b93f97b8af d2403f4756e8a444 0f0d3f53039e7816',
      '20 17f4501fc4ed6d77 130371a85575387a e8bd6b7360c8cc4d',
    ]);
  });

  it('query planes hold the rotated query in 16 levels from lo to lo + 15 × step', () => {
    for (const dimensions of [384, 20, 2048]) {
      const coder = new VectorCoder(dimensions);
      const { bytes } = coder.layout;
      const query = seededVector(31, dimensions);
      const { planes, bounds } = coder.queryPlanes(query);
      const levels = levelsOf(planes, bytes);
      expect(Math.min(...levels)).toBe(0);
      expect(Math.max(...levels)).toBe(15);
      expect(bounds[1]).toBeGreaterThan(0);
      // The code's bit j is 1 where rotated value j is positive: exactly where lo + step × level
      // is positive, but for values rounded across zero (within half a step of it).
      const code = coder.queryCode(query);
      const [lo = 0, step = 0] = bounds;
      for (let bit = 0; bit < bytes * 8; bit++) {
        const value = lo + step * (levels[bit] as number);
        if (Math.abs(value) > step / 2) expect(((code[bit >> 3] as number) >> (bit & 7)) & 1).toBe(value > 0 ? 1 : 0);
      }
    }
  });

  it('a query rotated once serves its code and its planes, and a changed query is rotated again', () => {
    const coder = new VectorCoder(96);
    const first = seededVector(11, 96);
    const second = Float32Array.from(first);
    second[40] = -(second[40] as number);
    const signedZero = Float32Array.from(first);
    signedZero[7] = 0;
    const negativeZero = Float32Array.from(first);
    negativeZero[7] = -0;
    const planesOf = (of: VectorCoder, vector: Float32Array) => {
      const { planes, bounds } = of.queryPlanes(vector);
      return [...planes, ...bounds];
    };
    for (const [query, other] of [
      [first, second],
      [signedZero, negativeZero],
    ] as const) {
      const alone = (vector: Float32Array) => ({
        code: new VectorCoder(96).queryCode(vector),
        planes: planesOf(new VectorCoder(96), vector),
      });
      coder.queryCode(query);
      expect(planesOf(coder, other)).toEqual(alone(other).planes);
      expect(coder.queryCode(other)).toEqual(alone(other).code);
      expect(planesOf(coder, query)).toEqual(alone(query).planes);
    }
  });

  it('estimate similarity: nearer vectors get fewer differing bits and higher asymmetric scores', () => {
    const coder = new VectorCoder(64);
    const query = seededVector(7, 64);
    const near = Float32Array.from(query, (value, index) => value + 0.1 * (seededVector(8, 64)[index] as number));
    const far = seededVector(9, 64);
    const code = (vector: Float32Array) => coder.queryCode(vector);
    const hamming = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, byte, index) => sum + popcount(byte ^ (b[index] as number)), 0);
    expect(hamming(code(query), code(near))).toBeLessThan(hamming(code(query), code(far)));
    const { planes, bounds } = coder.queryPlanes(query);
    const levels = levelsOf(planes, coder.layout.bytes);
    const [lo = 0, step = 0] = bounds;
    // Σ over the code's 1 bits of the query's quantised rotated values (the estimate's definition).
    const estimate = (vector: Float32Array) => {
      const bits = code(vector);
      let sum = 0;
      for (let bit = 0; bit < bits.length * 8; bit++)
        if (((bits[bit >> 3] as number) >> (bit & 7)) & 1) sum += lo + step * (levels[bit] as number);
      return sum;
    };
    expect(estimate(near)).toBeGreaterThan(estimate(far));
    // A vector against its own code: the sum of its positive rotated values.
    expect(estimate(query)).toBeGreaterThan(0);
  });
});

describe('the Hamming kernel', () => {
  it('is valid WebAssembly', () => {
    const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } };
    for (const words of [1, 4, 8, 16]) expect(wasm.validate(kernelBytes(words))).toBe(true);
    for (const [words, suffixWords] of [
      [8, 16],
      [2, 2],
      [8, 0],
    ] as const)
      expect(wasm.validate(kernelBytes(words, suffixWords))).toBe(true);
  });

  it('gives the same distances and histogram in WebAssembly and in JavaScript', () => {
    const coder = new VectorCoder(96);
    const { bytes, hammingBytes } = coder.layout;
    const count = 700;
    const accelerated = new CodeArena(bytes, hammingBytes, 1024, true);
    const portable = new CodeArena(bytes, hammingBytes, 1024, false);
    expect(accelerated.accelerated).toBe(true);
    expect(portable.accelerated).toBe(false);
    const code = new Uint8Array(bytes);
    for (let slot = 0; slot < count; slot++) {
      coder.encode(seededVector(100 + slot, 96), code);
      for (const arena of [accelerated, portable]) {
        arena.setCode(slot, code);
        if (slot % 7 === 0) arena.mask[slot] = slot % 2 === 0 ? slotDead : slotSuperseded;
      }
      expect(Array.from(accelerated.code(slot))).toEqual(Array.from(code));
    }
    const query = coder.queryCode(seededVector(3, 96)).subarray(0, hammingBytes);
    for (const arena of [accelerated, portable]) {
      arena.query.set(query);
      arena.scanAll(count, slotDead | slotSuperseded);
    }
    expect(Array.from(accelerated.distances.subarray(0, count))).toEqual(Array.from(portable.distances.subarray(0, count)));
    expect(Array.from(accelerated.histogram)).toEqual(Array.from(portable.histogram));
    expect(accelerated.distances[0]).toBe(maskedDistance);
    const expected = Array.from(accelerated.code(1).subarray(0, hammingBytes)).reduce(
      (sum, byte, index) => sum + popcount(byte ^ (query[index] as number)),
      0,
    );
    expect(accelerated.distances[1]).toBe(expected);

    const slots = Array.from({ length: 200 }, (_, index) => (index * 37) % count);
    for (const arena of [accelerated, portable]) {
      arena.slots.set(slots);
      arena.scanSlots(slots.length);
    }
    expect(Array.from(accelerated.distances.subarray(0, 200))).toEqual(Array.from(portable.distances.subarray(0, 200)));
    const grown = accelerated.grow(4096, count);
    expect(grown.capacity).toBe(4096);
    for (const slot of [0, 1, count - 1]) expect(Array.from(grown.code(slot))).toEqual(Array.from(accelerated.code(slot)));
    grown.move(count - 1, 2);
    expect(Array.from(grown.code(2))).toEqual(Array.from(accelerated.code(count - 1)));
  });

  it('gives the same estimates to the bit in WebAssembly and in JavaScript, at every code width, as defined', () => {
    // 128-, 256- and 512-byte codes (64 Hamming bytes, and 64 to 448 more).
    for (const dimensions of [384, 2048, 4096]) {
      const coder = new VectorCoder(dimensions);
      const { bytes, hammingBytes } = coder.layout;
      const count = 600;
      const arena = new CodeArena(bytes, hammingBytes, 1024, true);
      const code = new Uint8Array(bytes);
      for (let slot = 0; slot < count; slot++) {
        coder.encode(seededVector(500 + slot, dimensions), code);
        arena.setCode(slot, code);
      }
      const planes = arena.estimatePlanes as Uint8Array;
      const bounds = arena.estimateBounds as Float64Array;
      expect(planes).not.toBeNull();
      const query = seededVector(9, dimensions);
      coder.queryPlanes(query, planes, bounds);
      const own = new VectorCoder(dimensions).queryPlanes(query);
      expect([...planes, ...bounds]).toEqual([...own.planes, ...own.bounds]);
      const candidates = Int32Array.from({ length: 450 }, (_, index) => (index * 53) % count);
      const expected = Array.from(estimatesInJavaScript(candidates, arena, planes, bounds));
      expect(Array.from(arena.estimate(candidates) as Float64Array)).toEqual(expected);
      // By definition: lo × (1 bits) + step × Σ over the 1 bits of the query's levels.
      const levels = levelsOf(planes, bytes);
      const [lo = 0, step = 0] = bounds;
      for (const position of [0, 1, 77, 449]) {
        const bits = arena.code(candidates[position] as number);
        let ones = 0;
        let sum = 0;
        for (let bit = 0; bit < bytes * 8; bit++) {
          if (((bits[bit >> 3] as number) >> (bit & 7)) & 1) {
            ones += 1;
            sum += levels[bit] as number;
          }
        }
        expect(expected[position]).toBe(lo * ones + step * sum);
      }
      expect(new Set(expected).size).toBeGreaterThan(100);
      expect(new CodeArena(bytes, hammingBytes, 1024, false).estimate(candidates)).toBeNull();
    }
  });
});
