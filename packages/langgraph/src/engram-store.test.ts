import { type Embedder, hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EngramStore } from './engram-store.js';
import { indexedTexts, textsAtPath } from './item-text.js';
import { ConformanceEmbeddings } from './testing/conformance-embeddings.js';

const stores: EngramStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.stop();
});

function countingEmbedder(): Embedder & { calls: string[][] } {
  const inner = hashEmbedder();
  const calls: string[][] = [];
  return {
    specificationVersion: 'v1',
    id: inner.id,
    dimensions: inner.dimensions,
    calls,
    embed: (texts, options) => {
      calls.push([...texts]);
      return inner.embed(texts, options);
    },
  };
}

describe('EngramStore', () => {
  it('embeds the puts of one batch in one call and writes them together', async () => {
    const embedder = countingEmbedder();
    const store = new EngramStore({ store: inMemoryStore(), index: { embed: embedder, fields: ['text'] } });
    stores.push(store);
    await store.batch([
      { namespace: ['notes'], key: 'a', value: { text: 'first note' } },
      { namespace: ['notes'], key: 'b', value: { text: 'second note' } },
      { namespace: ['notes'], key: 'c', value: { text: 'third note' } },
    ]);
    expect(embedder.calls).toEqual([['first note', 'second note', 'third note']]);
    expect(await store.memory.count()).toBe(3);
  });

  it('accepts a LangChain Embeddings with its dims', async () => {
    const embeddings = new ConformanceEmbeddings();
    const store = new EngramStore({
      store: inMemoryStore(),
      index: { embed: embeddings, dims: ConformanceEmbeddings.dimensions, fields: ['text'] },
    });
    stores.push(store);
    await store.put(['docs'], 'cats', { text: 'cats purr and sleep' });
    await store.put(['docs'], 'rockets', { text: 'rockets burn fuel' });
    const [best] = await store.search(['docs'], { query: 'why do cats purr', limit: 1 });
    expect(best?.key).toBe('cats');
    expect(embeddings.calls.flat()).toContain('cats purr and sleep');
  });

  it('shares a Memory: items are memories in their scope, found by the Memory API too', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    const store = new EngramStore({ memory, scope: { userId: 'ada' }, index: { fields: ['preference'] } });
    await store.put(['users', 'ada', 'preferences'], 'editor', { preference: 'Ada edits code in Helix with a dark theme' });
    const [hit] = await memory.search('which editor does Ada use', { scope: { userId: 'ada' } });
    expect(hit?.memory.content).toBe('Ada edits code in Helix with a dark theme');
    expect(hit?.memory.source).toBe('langgraph');
    expect(hit?.memory.metadata.value).toEqual({ preference: 'Ada edits code in Helix with a dark theme' });
    await store.stop();
    // The store does not close a Memory it was given.
    expect(await memory.count()).toBe(1);
    await memory.close();
  });

  it('never takes other memories of the same scope for items', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    const store = new EngramStore({ memory, scope: { userId: 'ada' } });
    await memory.add({ content: 'Ada said this through the MCP server', scope: { userId: 'ada' } });
    await store.put(['notes'], 'one', { text: 'a store item' });
    expect((await store.search([], { limit: 10 })).map((item) => item.key)).toEqual(['one']);
    expect((await store.search([], { query: 'what did Ada say', limit: 10 })).map((item) => item.key)).toEqual(['one']);
    expect(await store.listNamespaces()).toEqual([['notes']]);
    await memory.close();
  });

  it('says what is wrong with its options', () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder() });
    expect(() => new EngramStore({ memory, index: { embed: hashEmbedder() } })).toThrow('pass the embedder to `new Memory({ embedder })`');
    expect(() => new EngramStore({ store: inMemoryStore(), index: { embed: new ConformanceEmbeddings() } })).toThrow(
      '`index.dims` is required with a LangChain `index.embed`',
    );
    expect(() => new EngramStore({ memory, scope: { runId: 'x' } as never })).toThrow('`scope.runId` is reserved');
    expect(() => new EngramStore({ memory, ttl: { defaultTtl: 0 } })).toThrow('`ttl.defaultTtl` must be a positive number of minutes');
    expect(() => new EngramStore({} as never)).toThrow('give `memory`');
  });

  it('rejects filters it cannot evaluate, naming the field', async () => {
    const store = new EngramStore({ store: inMemoryStore(), index: { embed: hashEmbedder() } });
    stores.push(store);
    await expect(store.search(['docs'], { filter: { pages: { $between: [1, 2] } } })).rejects.toThrow(
      'filter.pages: unknown operator "$between"',
    );
    await expect(store.search(['docs'], { filter: { author: { name: 'x' } } })).rejects.toThrow(
      'filter.author: compare with a string, number, boolean or null (got object)',
    );
    await expect(store.search(['docs'], { filter: { status: { $in: 'open' } } })).rejects.toThrow('filter.status.$in: must be an array');
  });

  it('rewrites an item read again within a tenth of its TTL at most once', async () => {
    let clock = 0;
    const store = new EngramStore({ store: inMemoryStore(), index: { embed: hashEmbedder() }, ttl: { defaultTtl: 10 }, now: () => clock });
    stores.push(store);
    let updates = 0;
    store.memory.on('memory:updated', () => updates++);
    await store.put(['ttl'], 'hot', { data: 1 });
    for (let read = 0; read < 20; read++) {
      clock += 1000; // twenty reads within 20 seconds of a 10-minute TTL
      expect(await store.get(['ttl'], 'hot')).not.toBeNull();
    }
    expect(updates).toBe(0);
    clock += 60_000; // a minute later: a tenth of the TTL has passed, the read restarts it
    await store.get(['ttl'], 'hot');
    expect(updates).toBe(1);
  });

  it('sweeps expired items on a timer between start() and stop()', async () => {
    let clock = 0;
    const store = new EngramStore({
      store: inMemoryStore(),
      index: { embed: hashEmbedder() },
      ttl: { defaultTtl: 1, sweepIntervalMinutes: 1 / 600 },
      now: () => clock,
    });
    stores.push(store);
    await store.put(['ttl'], 'a', { data: 1 });
    clock = 2 * 60_000;
    store.start();
    await expect.poll(() => store.memory.count(), { timeout: 2000 }).toBe(0);
    await store.stop();
    await store.stop(); // stopping twice is harmless
  });
});

describe('index field paths', () => {
  const value = {
    title: 'Guide',
    pages: 12,
    draft: false,
    author: { name: 'Ada', tags: ['x'] },
    chapters: [{ text: 'one' }, { text: 'two' }, { other: 'three' }],
    notes: ['a', 'b'],
  };
  it.each([
    ['title', ['Guide']],
    ['pages', ['12']],
    ['draft', ['false']],
    ['author.name', ['Ada']],
    ['author', ['{"name":"Ada","tags":["x"]}']],
    ['chapters[*].text', ['one', 'two']],
    ['chapters[0].text', ['one']],
    ['chapters[-1].other', ['three']],
    ['notes[*]', ['a', 'b']],
    ['notes[9]', []],
    ['missing.deeper', []],
    ['title.length', []],
  ])('%s selects %j', (path, expected) => {
    expect(textsAtPath(value, path)).toEqual(expected);
  });

  it('reads the whole value as JSON for $ and drops blank texts', () => {
    expect(textsAtPath({ a: 1 }, '$')).toEqual(['{"a":1}']);
    expect(indexedTexts({ a: ' ', b: 'kept' }, ['a', 'b'])).toEqual(['kept']);
  });
});
