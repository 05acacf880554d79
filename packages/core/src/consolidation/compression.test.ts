import { describe, expect, it } from 'vitest';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { extractiveSummary, NearDuplicateClusterer } from './compression.js';

const DAY = 86_400_000;
const rules = { similarity: 0.9, taggedSimilarity: 0.8, windowDays: 30 };
const embedder = hashEmbedder();

async function items(texts: Array<{ id: string; text: string; day: number; group?: string; tags?: string[] }>) {
  const vectors = await embedder.embed(texts.map((item) => item.text));
  return texts
    .map((item, index) => ({
      id: item.id,
      createdAt: Date.UTC(2026, 0, 1) + item.day * DAY,
      group: item.group ?? 'g',
      tags: item.tags ?? [],
      vector: vectors[index] as Float32Array,
    }))
    .sort((a, b) => b.createdAt - a.createdAt);
}

describe('NearDuplicateClusterer', () => {
  it('clusters near duplicates close in time and leaves the rest', async () => {
    const clusterer = new NearDuplicateClusterer(embedder.dimensions, rules);
    for (const item of await items([
      { id: 'a1', text: 'CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job lint', day: 1 },
      { id: 'a2', text: 'CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job test', day: 3 },
      { id: 'a3', text: 'CI build failed: npm ERR! ETIMEDOUT fetching registry.npmjs.org in job build', day: 6 },
      { id: 'b1', text: 'The staging database runs Postgres 15 on port 5433', day: 2 },
      { id: 'c1', text: 'Alice prefers dark mode in the editor', day: 4 },
    ]))
      clusterer.add(item);
    expect(clusterer.clusters(2)).toEqual([['a1', 'a2', 'a3']]);
  });

  it('never joins memories further apart than the window, nor of another group', async () => {
    const clusterer = new NearDuplicateClusterer(embedder.dimensions, rules);
    for (const item of await items([
      { id: 'a1', text: 'Deploy to production failed: health check timed out after 30 seconds', day: 0 },
      { id: 'a2', text: 'Deploy to production failed: health check timed out after 30 seconds!', day: 45 },
      { id: 'b1', text: 'Deploy to production failed: health check timed out after 31 seconds', day: 1, group: 'other' },
    ]))
      clusterer.add(item);
    expect(clusterer.clusters(2)).toEqual([]);
  });

  it('does bounded work per item: comparisons grow linearly, not with all pairs', async () => {
    const texts = Array.from({ length: 2000 }, (_, index) => ({
      id: `m${String(index).padStart(5, '0')}`,
      // Every memory the same text but a number: one dense region, the worst case for buckets.
      text: `Nightly job ${index % 7} finished with warnings about disk usage on runner`,
      day: index / 100,
    }));
    const clusterer = new NearDuplicateClusterer(embedder.dimensions, rules);
    for (const item of await items(texts)) clusterer.add(item);
    // All pairs would be ~2,000,000 comparisons; the bound is items × bands × bucket capacity.
    expect(clusterer.comparisons).toBeLessThan(2000 * 8 * 64);
    expect(clusterer.comparisons).toBeLessThan(100_000);
    expect(clusterer.clusters(3).length).toBeGreaterThan(0);
  });

  it('is deterministic: the same input gives the same clusters', async () => {
    const input = await items(
      Array.from({ length: 60 }, (_, index) => ({
        id: `m${index}`,
        text: `Error ${index % 3}: connection reset by peer while uploading artefact`,
        day: index,
      })),
    );
    const run = () => {
      const clusterer = new NearDuplicateClusterer(embedder.dimensions, rules);
      for (const item of input) clusterer.add(item);
      return clusterer.clusters(2);
    };
    expect(run()).toEqual(run());
  });
});

describe('extractiveSummary', () => {
  it('keeps the sentences most members share and says how many memories it stands for', () => {
    const summary = extractiveSummary([
      { content: 'The CI runner ran out of disk. Cleaned the cache.', createdAt: new Date('2026-01-02T00:00:00Z') },
      { content: 'The CI runner ran out of disk again. Rebooted it.', createdAt: new Date('2026-01-05T00:00:00Z') },
      { content: 'Disk full on the CI runner.', createdAt: new Date('2026-01-09T00:00:00Z') },
    ]);
    expect(summary).toContain('The CI runner ran out of disk');
    expect(summary).toMatch(/\(3 similar memories between 2026-01-02 and 2026-01-09\)$/);
  });
});
