import { describe, expect, it } from 'vitest';
import { type MemoryStore, type RankingRecord, rankingRecordFields } from '../contracts/memory-store.js';
import type { MemoryRecord } from '../contracts/model.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import type { SearchOptions } from '../model/schema.js';
import { inMemoryStore } from '../stores/in-memory-store.js';

function ranking(record: MemoryRecord): RankingRecord {
  return Object.fromEntries(
    rankingRecordFields.filter((field) => record[field] !== undefined).map((field) => [field, record[field]]),
  ) as unknown as RankingRecord;
}

/** An in-memory store with `getRankingFields`, counting the ids each read asks for. */
function rankingStore(onRanked?: (store: MemoryStore, records: RankingRecord[]) => Promise<void>, base = inMemoryStore()) {
  const reads = { ranking: 0, whole: [] as number[] };
  const store: MemoryStore = {
    ...base,
    async get(ids) {
      reads.whole.push(ids.length);
      return base.get(ids);
    },
    async getRankingFields(ids) {
      reads.ranking += 1;
      const records = (await base.get(ids)).map(ranking);
      await onRanked?.(base, records);
      return records;
    },
  };
  return { store, reads };
}

const notes = [
  'The lighthouse keeper logs the weather at dawn',
  'Lighthouse lamps were switched to LED in 2019',
  'The ferry leaves the harbour at nine',
  'Storm warnings close the harbour and the lighthouse path',
  'The keeper’s cottage sits below the lighthouse',
  'Harbour fees rose last spring',
  'A lighthouse needs its lens cleaned weekly',
  'The pier was rebuilt after the storm',
];

const now = () => Date.UTC(2026, 0, 2);

async function filled(store: MemoryStore): Promise<Memory> {
  const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, now });
  for (const [index, content] of notes.entries()) {
    await memory.add({ content, importance: (index % 4) / 4, tags: index % 2 === 0 ? ['even'] : ['odd'], conversationId: 'log' });
  }
  return memory;
}

describe('search on ranking fields (MemoryStore.getRankingFields)', () => {
  it('returns the hits, scores and explanations of the whole-record path, reading whole records for the hits only', async () => {
    const base = inMemoryStore();
    const plain = await filled(base);
    const { store, reads } = rankingStore(undefined, base);
    const ranked = new Memory({ store, embedder: hashEmbedder(), logger: false, now });
    for (const [query, options] of [
      ['lighthouse keeper', { limit: 3 }],
      ['harbour storm', { limit: 5, tags: ['even'] }],
      ['lighthouse', { limit: 10, minScore: 0 }],
    ] satisfies Array<[string, SearchOptions]>) {
      reads.whole.length = 0;
      const expected = await plain.search(query, { ...options, explain: true });
      const actual = await ranked.search(query, { ...options, explain: true });
      expect(actual.length).toBeGreaterThan(0);
      expect(actual.map((hit) => [hit.memory.content, hit.score, hit.explanation])).toEqual(
        expected.map((hit) => [hit.memory.content, hit.score, hit.explanation]),
      );
      // Whole records: the returned hits (and the accessed ones re-read by nothing else).
      expect(reads.whole.reduce((sum, count) => sum + count, 0)).toBe(actual.length);
      expect(actual[0]?.memory.metadata).toEqual({});
    }
  });

  it('reads whole candidates when ranking needs more than the ranking fields (where, decay, expansion)', async () => {
    const { store, reads } = rankingStore();
    const memory = await filled(store);
    const before = reads.ranking;
    await memory.search('lighthouse', { where: { missing: { exists: false } } });
    await memory.search('lighthouse', { expand: { depth: 1 } });
    expect(reads.ranking).toBe(before);
    await memory.search('lighthouse');
    expect(reads.ranking).toBe(before + 1);
  });

  it('returns the next candidate in place of one deleted between ranking and reading the hits', async () => {
    let deleted: string | undefined;
    const { store } = rankingStore(async (base, records) => {
      // Another writer deletes the best lexical candidate while this search ranks it.
      const target = records.find((record) => record.content.startsWith('A lighthouse needs'));
      if (target && deleted === undefined) {
        deleted = target.id;
        await base.delete(target.id, new Date());
      }
    });
    const memory = await filled(store);
    // minScore: every candidate stays ranked (the relevance floor keeps only `limit`, and a hit
    // deleted while it ranks is then one fewer, as if deleted just after the search).
    const hits = await memory.search('lighthouse lens', { limit: 3, minScore: 0 });
    expect(deleted).toBeDefined();
    expect(hits).toHaveLength(3);
    expect(hits.map((hit) => hit.memory.id)).not.toContain(deleted);
  });
});
