import { describe, expect, it } from 'vitest';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';

describe('memory.statistics', () => {
  it('counts the live memories of a scope by type, subtype, user, agent, tag and day (a scan on a store without statistics)', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    const [bug, insight] = await memory.addMany([
      { content: 'the build fails on node 18', type: 'bug', tags: ['ci', 'node'], scope: { userId: 'ada' } },
      { content: 'cache the lockfile', type: 'insight', tags: ['ci'], scope: { userId: 'ada', agentId: 'helper' } },
      { content: 'someone else entirely', scope: { userId: 'bob' } },
    ]);
    await memory.link(bug?.memory.id as string, insight?.memory.id as string, 'related');
    const statistics = await memory.statistics(
      { scope: { userId: 'ada' } },
      { createdSince: new Date(Date.now() - 86_400_000), tagLimit: 1 },
    );
    expect(statistics).toMatchObject({
      total: 2,
      superseded: 0,
      tags: [{ tag: 'ci', count: 2 }],
      relations: 1,
    });
    expect(statistics.byType).toEqual(
      expect.arrayContaining([
        { type: 'error', count: 1 },
        { type: 'learning', count: 1 },
      ]),
    );
    expect(statistics.bySubtype).toEqual(
      expect.arrayContaining([
        { subtype: 'bug', count: 1 },
        { subtype: 'insight', count: 1 },
      ]),
    );
    expect(statistics.byAgent).toEqual(
      expect.arrayContaining([
        { agentId: null, count: 1 },
        { agentId: 'helper', count: 1 },
      ]),
    );
    expect(statistics.createdPerDay.reduce((sum, entry) => sum + entry.count, 0)).toBe(2);
    await memory.close();
  });

  it('refuses bad options, naming them', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    await expect(memory.statistics({}, { tagLimit: 0 })).rejects.toThrow(/options\.tagLimit/);
    await expect(memory.statistics({}, { createdSince: new Date(Number.NaN) })).rejects.toThrow(/options\.createdSince/);
    await memory.close();
  });
});
