import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VectorIndex, VectorPayload } from '../contracts/vector-index.js';
import { parseWhere } from '../filter/where.js';
import { makeRecord, nearVector, seededVector } from './records.js';

export interface VectorIndexConformanceOptions {
  name: string;
  /** A fresh, empty index for each test. */
  create: () => VectorIndex | Promise<VectorIndex>;
  cleanup?: (index: VectorIndex) => void | Promise<void>;
  /** Set to a reason to skip the whole suite (e.g. 'QDRANT_URL is not set'). */
  skip?: string;
}

const DIMENSIONS = 8;

function payload(overrides: Partial<VectorPayload> = {}): VectorPayload {
  const record = makeRecord(overrides);
  return {
    scope: record.scope,
    conversationId: record.conversationId,
    type: record.type,
    subtype: record.subtype,
    tags: record.tags,
    metadata: record.metadata,
    createdAt: record.createdAt,
    supersededBy: record.supersededBy,
    validTo: record.validTo,
  };
}

/** The `VectorIndex` contract as executable cases, for standalone indexes (Qdrant, memory). */
export function runVectorIndexConformance(options: VectorIndexConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`VectorIndex conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let index: VectorIndex;
    beforeEach(async () => {
      index = await options.create();
      await index.open(DIMENSIONS);
    });
    afterEach(async () => {
      await index.close?.();
      await options.cleanup?.(index);
    });

    it('declares its contract', () => {
      expect(index.specificationVersion).toBe('v1');
      expect(index.name).toMatch(/\S/);
    });

    it('upserts, counts, replaces and deletes', async () => {
      await index.upsert([
        { id: 'a', vector: seededVector(1, DIMENSIONS), payload: payload() },
        { id: 'b', vector: seededVector(2, DIMENSIONS), payload: payload() },
      ]);
      expect(await index.count()).toBe(2);
      await index.upsert([{ id: 'a', vector: seededVector(3, DIMENSIONS), payload: payload() }]);
      expect(await index.count()).toBe(2);
      const [best] = await index.search(seededVector(3, DIMENSIONS), 1);
      expect(best?.id).toBe('a');
      expect(best?.similarity).toBeCloseTo(1, 4);
      await index.delete(['a', 'unknown']);
      expect(await index.count()).toBe(1);
      expect((await index.search(seededVector(3, DIMENSIONS), 5)).map((match) => match.id)).toEqual(['b']);
    });

    it('orders by similarity, best first', async () => {
      const query = seededVector(7, DIMENSIONS);
      await index.upsert([
        { id: 'far', vector: nearVector(query, 1, 2), payload: payload() },
        { id: 'near', vector: nearVector(query, 2, 0.05), payload: payload() },
        { id: 'mid', vector: nearVector(query, 3, 0.5), payload: payload() },
      ]);
      const matches = await index.search(query, 3);
      expect(matches.map((match) => match.id)).toEqual(['near', 'mid', 'far']);
      expect(matches[0]?.similarity).toBeGreaterThan(matches[1]?.similarity as number);
    });

    it('pushes filters down: k matching results even when many better ones do not match', async () => {
      const query = seededVector(9, DIMENSIONS);
      const noise = Array.from({ length: 300 }, (_, position) => ({
        id: `noise-${position}`,
        vector: nearVector(query, 100 + position, 0.02),
        payload: payload({ scope: { userId: 'other' }, tags: ['noise'], metadata: { keep: false } }),
      }));
      const wanted = Array.from({ length: 3 }, (_, position) => ({
        id: `wanted-${position}`,
        vector: nearVector(query, 900 + position, 0.4 + position * 0.4),
        payload: payload({ scope: { userId: 'me' }, tags: ['keep'], type: 'error', metadata: { keep: true } }),
      }));
      await index.upsert([...noise, ...wanted]);
      const expected = wanted.map((item) => item.id);
      expect((await index.search(query, 3, { scope: { userId: 'me' } })).map((match) => match.id)).toEqual(expected);
      expect((await index.search(query, 3, { tags: { all: ['keep'] } })).map((match) => match.id)).toEqual(expected);
      expect((await index.search(query, 3, { types: ['error'] })).map((match) => match.id)).toEqual(expected);
      expect((await index.search(query, 3, { where: parseWhere({ keep: true }) })).map((match) => match.id)).toEqual(expected);
    });

    it('rejects vectors of the wrong size', async () => {
      await expect(index.upsert([{ id: 'x', vector: seededVector(1, DIMENSIONS + 1), payload: payload() }])).rejects.toThrow();
      await expect(index.search(seededVector(1, DIMENSIONS + 1), 1)).rejects.toThrow();
    });
  });
}
