import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory, type VectorIndex } from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memories, queries } from '../bench/lib/corpus.mjs';

// Pins what search answers on the bench corpus, so that work on the search hot path (typed
// arrays, selection instead of sorting, raw row reads…) is proven not to change a single result:
// 4,000 memories is enough for every approximate vector stage to run (Hamming cut at 2,560
// candidates, estimate cut at 200). The digests cover, for 60 bench queries, the vector index's
// top 40 with similarities and hybrid search's top 10 with scores (12 decimals). They were
// computed with the code before that work (BM25 b = 0.6, int8 vectors). A change to ranking or to the vector
// stages made on purpose changes them: check the bench and LoCoMo figures, then update the
// digests here. Last updated for the estimate stage by 4-bit query planes (ANN recall within 0.003,
// LoCoMo tables identical: bench/README.md, REST, the thirteenth pass).
const PINNED = { vector: '280938c5892419a6', search: '0253aa62661778fb' };

const directory = mkdtempSync(join(tmpdir(), 'engram-search-pinned-'));
const store = sqliteStore({ path: join(directory, 'pinned.db') });
const embedder = hashEmbedder();
const memory = new Memory({ store, embedder, logger: false, now: () => Date.UTC(2026, 0, 1) });

beforeAll(async () => {
  await memory.addMany(memories(0, 4000));
}, 120_000);
afterAll(async () => {
  await memory.close();
  rmSync(directory, { recursive: true, force: true });
});

/** The corpus index each memory's content ends with. */
const label = (content: string) => content.slice(content.lastIndexOf(' ') + 1);
const digest = (lists: string[]) => createHash('sha256').update(lists.join('\n')).digest('hex').slice(0, 16);

describe('search results on the bench corpus (SQLite, hash-v1-384)', () => {
  it('are exactly the pinned ones, for the vector index and for hybrid search', async () => {
    const byId = new Map((await memory.list({ limit: 5000 })).items.map((item) => [item.id, label(item.content)]));
    const vectors = store.vectors as VectorIndex;
    const vectorLists: string[] = [];
    const searchLists: string[] = [];
    for (const query of queries(60, 11)) {
      const [vector] = await embedder.embed([query]);
      const matches = await vectors.search(vector as Float32Array, 40, {});
      vectorLists.push(matches.map((match) => `${byId.get(match.id)}:${match.similarity.toFixed(12)}`).join(','));
      const hits = await memory.search(query, { limit: 10 });
      searchLists.push(hits.map((hit) => `${label(hit.memory.content)}:${hit.score.toFixed(12)}`).join(','));
    }
    expect(searchLists[0]?.split(',')).toHaveLength(10);
    expect({ vector: digest(vectorLists), search: digest(searchLists) }).toEqual(PINNED);
  }, 120_000);
});
