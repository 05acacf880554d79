import { describe, expect, it } from 'vitest';
import type { RankingRecord } from '../contracts/memory-store.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { ValidationError } from '../model/errors.js';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { findDateCues } from './date-cues.js';
import {
  type Candidate,
  candidateScore,
  defaultVectorWeight,
  HASH_VECTOR_WEIGHT,
  resolveRetrievalOptions,
  scoreCandidate,
} from './fusion.js';

const memoryWith = (options: Partial<ConstructorParameters<typeof Memory>[0]> = {}) =>
  new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false, ...options });

describe('context', () => {
  it('is searched but is not the content, nor part of the duplicate key', async () => {
    const memory = memoryWith();
    const { memory: answer } = await memory.add({ content: 'Bob: Luna and Oliver!', context: 'Alice: What are your pets called?' });
    await memory.add({ content: 'Alice: I adopted a cat last spring' });
    expect(answer.content).toBe('Bob: Luna and Oliver!');
    expect(answer.context).toBe('Alice: What are your pets called?');
    const [best] = await memory.search('pets called', { mode: 'lexical' });
    expect(best?.memory.id).toBe(answer.id);
    const again = await memory.add({ content: 'Bob: Luna and Oliver!', context: 'something else' });
    expect(again.status).toBe('duplicate');
    expect(again.memory.id).toBe(answer.id);
    const { memory: plain } = await memory.add({ content: 'no context here', context: '   ' });
    expect(plain).not.toHaveProperty('context');
    await memory.close();
  });

  it('is limited like the content', async () => {
    const memory = memoryWith({ maxContentBytes: 100 });
    await expect(memory.add({ content: 'short', context: 'x'.repeat(101) })).rejects.toThrow(ValidationError);
    await memory.close();
  });
});

describe('date cues', () => {
  const setUp = async (options: Partial<ConstructorParameters<typeof Memory>[0]> = {}) => {
    const memory = memoryWith(options);
    const early = await memory.add({ content: 'showed a painting, the painting of a lake', createdAt: new Date(Date.UTC(2023, 9, 2)) });
    const dated = await memory.add({ content: 'showed a painting of the sea', createdAt: new Date(Date.UTC(2023, 9, 13, 15)) });
    return { memory, early: early.memory, dated: dated.memory };
  };

  it('rank memories created in the period the query names first, and explain it', async () => {
    const { memory, dated } = await setUp();
    const hits = await memory.search('What painting did she show on October 13, 2023?', { explain: true });
    expect(hits[0]?.memory.id).toBe(dated.id);
    expect(hits[0]?.explanation?.date).toEqual({ cue: 'October 13, 2023', contribution: expect.any(Number) });
    expect(hits[1]?.explanation?.date).toBeUndefined();
    const explanation = hits[0]?.explanation;
    const parts = ['lexical', 'vector', 'date'] as const;
    const sum =
      parts.reduce((total, part) => total + (explanation?.[part]?.contribution ?? 0), 0) +
      (explanation?.recency.contribution ?? 0) +
      (explanation?.importance.contribution ?? 0);
    expect(sum).toBeCloseTo(explanation?.score ?? Number.NaN, 10);
    await memory.close();
  });

  it('can be turned off', async () => {
    const { memory, early } = await setUp({ retrieval: { dateCues: false } });
    const hits = await memory.search('What painting did she show on October 13, 2023?', { explain: true });
    expect(hits[0]?.memory.id).toBe(early.id);
    expect(hits.every((hit) => hit.explanation?.date === undefined)).toBe(true);
    await memory.close();
    expect(() => resolveRetrievalOptions({ dateCues: { weight: -1 } })).toThrow(/dateCues/);
  });
});

describe('fusion weights', () => {
  it('give the hash embedder a low vector weight unless configured', async () => {
    expect(defaultVectorWeight('hash-v1-384')).toBe(HASH_VECTOR_WEIGHT);
    expect(defaultVectorWeight('transformers:Xenova/all-MiniLM-L6-v2:q8')).toBe(1);
    expect(defaultVectorWeight(undefined)).toBe(1);
    const explain = async (memory: Memory) => {
      await memory.add({ content: 'kafka consumer lag alert' });
      const [hit] = await memory.search('kafka lag', { explain: true });
      await memory.close();
      return hit?.explanation;
    };
    const byDefault = await explain(memoryWith());
    // Ranked first by both lists: the lexical list carries 1 / (1 + 0.05) of the relevance.
    expect(byDefault?.relevance).toBeCloseTo(1, 10);
    expect((byDefault?.lexical?.contribution ?? 0) / (byDefault?.vector?.contribution ?? 1)).toBeCloseTo(1 / HASH_VECTOR_WEIGHT, 6);
    const equal = await explain(memoryWith({ retrieval: { weights: { vector: 1 } } }));
    expect(equal?.lexical?.contribution).toBeCloseTo(equal?.vector?.contribution ?? 0, 10);
  });
});

describe('candidateScore (ranking without the explanation)', () => {
  it("is scoreCandidate's score to the bit, whichever parts the score has", () => {
    const now = Date.UTC(2024, 0, 1);
    const records = [0, 1, 2, 3].map(
      (index) =>
        ({
          id: `m${index}`,
          importance: [0.5, 0, 1, 0.37][index],
          createdAt: new Date(Date.UTC(2023, 9, 13 - index * 9, 7 * index)),
          ...(index === 2 ? { decayScore: 0.61 } : {}),
        }) as unknown as RankingRecord,
    );
    const candidates: Candidate[] = [
      { id: 'm0', lexical: { rank: 1, score: 7.5 }, vector: { rank: 3, similarity: 0.8 } },
      { id: 'm1', vector: { rank: 40, similarity: 0.1 } },
      { id: 'm2', lexical: { rank: 17, score: 1.25 } },
      { id: 'm3' },
    ];
    const optionSets = [
      resolveRetrievalOptions(),
      resolveRetrievalOptions({ weights: { vector: 0.05 }, decay: { weight: 0.2 }, recency: { weight: 0.3, halfLifeDays: 7 } }),
      resolveRetrievalOptions({ rrfK: 3, dateCues: { weight: 2 }, importance: { weight: 0 } }),
    ];
    const cueSets = [[], findDateCues('what happened on October 13, 2023 or in September 2023?')];
    const listSets = [
      { lexical: true, vector: true },
      { lexical: false, vector: true },
      { lexical: true, vector: false },
    ];
    let compared = 0;
    for (const options of optionSets)
      for (const dateCues of cueSets)
        for (const lists of listSets)
          candidates.forEach((candidate, index) => {
            const record = records[index] as RankingRecord;
            const decay = () => 0.123;
            const explained = scoreCandidate(candidate, record, lists, options, now, dateCues, decay);
            expect(Object.is(candidateScore(candidate, record, lists, options, now, dateCues, decay), explained.score)).toBe(true);
            compared += 1;
          });
    expect(compared).toBe(72);
  });
});
