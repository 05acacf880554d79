import { describe, expect, it } from 'vitest';
import type { Embedder } from '../contracts/embedder.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { applyFloor, floorFor, HASH_RELEVANCE_FLOOR, queryNames } from './relevance-floor.js';

const databaseNotes = [
  'Postgres connection pool exhausted under load; raised pool size to 50',
  'SQLite WAL mode lets readers run during a write',
  'Added an index on orders.customer_id: the checkout query went from 900 ms to 4 ms',
  'Vacuum the database weekly to keep table bloat down',
];

async function storeAbout(options: Partial<ConstructorParameters<typeof Memory>[0]> = {}) {
  const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false, ...options });
  await memory.addMany(databaseNotes.map((content) => ({ content })));
  return memory;
}

describe('relevance floor', () => {
  it('answers nothing for an unrelated query: search [] and context() empty', async () => {
    const memory = await storeAbout();
    expect(await memory.search('kubernetes helm chart')).toEqual([]);
    expect(await memory.context({ query: 'kubernetes helm chart' })).toEqual({ text: '', tokens: 0, hits: [] });
  });

  it('keeps the hits that hold the query words, with their evidence', async () => {
    const memory = await storeAbout();
    const hits = await memory.search('postgres connection pool size', { explain: true });
    expect(hits.map((hit) => hit.memory.content)).toEqual([databaseNotes[0]]);
    expect(hits[0]?.explanation?.evidence).toEqual({ matched: 4, coverage: 1 });
    expect((await memory.context({ query: 'postgres connection pool size' })).text).toContain('pool size to 50');
  });

  it('is replaced by minScore (0 restores every hit) and turned off by retrieval.floor: false', async () => {
    const memory = await storeAbout();
    expect(await memory.search('kubernetes helm chart', { minScore: 0, limit: 3 })).toHaveLength(3);
    const off = await storeAbout({ retrieval: { floor: false } });
    expect(await off.search('kubernetes helm chart', { limit: 3 })).toHaveLength(3);
    const strict = await storeAbout({ retrieval: { floor: { coverage: 1, similarity: 1 } } });
    expect(await strict.search('database table bloat weekly cleanup')).toEqual([]);
    expect(await memory.search('database table bloat weekly cleanup')).toHaveLength(1);
  });

  it('applies by default only with the hash embedder, whose similarities it was measured on', async () => {
    const hash = hashEmbedder();
    expect(floorFor(undefined, hash.id)).toEqual(HASH_RELEVANCE_FLOOR);
    expect(floorFor(undefined, 'openai-text-embedding-3-small-1536')).toBeUndefined();
    expect(floorFor({ coverage: 0.7 }, 'openai-text-embedding-3-small-1536')).toEqual({
      coverage: 0.7,
      similarity: 1,
      unknownNames: false,
    });
    expect(floorFor(false, hash.id)).toBeUndefined();
    const neural: Embedder = { ...hash, id: 'test-neural-384', embed: (texts, options) => hash.embed(texts, options) };
    const memory = await storeAbout({ embedder: neural });
    expect(await memory.search('kubernetes helm chart', { limit: 2 })).toHaveLength(2);
  });

  it('lets a close vector match through when lexical evidence is missing', () => {
    const record = (content: string) => ({ content, tags: [], context: undefined }) as never;
    const hits = [
      { memory: record('colour palette chosen'), similarity: 0.9 },
      { memory: record('unrelated words'), similarity: 0.1 },
    ];
    const applied = applyFloor('color pallete', hits, { coverage: 0.5, similarity: 0.8 });
    expect(applied.kept).toEqual([hits[0]]);
    expect(applyFloor('color pallete', hits, { coverage: 0.5, similarity: 0.95 }).kept).toEqual([]);
    // A query with no words has no evidence to weigh: nothing is dropped.
    expect(applyFloor('?!', hits, { coverage: 0.5, similarity: 0.95 }).kept).toEqual(hits);
  });

  it('answers nothing when the query names someone no memory in the scope mentions', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    await memory.addMany([
      { content: 'Nate: I adopted a third turtle last week', scope: { userId: 'nate' } },
      { content: 'Joanna: my screenplay was rejected again', scope: { userId: 'nate' } },
      { content: 'Caroline: I went to the LGBTQ support group yesterday', scope: { userId: 'caroline' } },
    ]);
    // "Caroline" is stored, but not in Nate's scope: the words "support group" alone are not evidence.
    expect(await memory.search('When did Caroline go to the support group?', { scope: { userId: 'nate' } })).toEqual([]);
    expect(await memory.context({ query: 'When did Caroline go to the support group?', scope: { userId: 'nate' } })).toMatchObject({
      text: '',
    });
    expect(await memory.search('Did Caroline and Melanie adopt a turtle?', { scope: { userId: 'nate' } })).toEqual([]);
    // One known name is enough (the others may be what the memories call otherwise); month names are dates, not names.
    const known = await memory.search('How many turtles did Nate adopt in May?', { scope: { userId: 'nate' } });
    expect(known.map((hit) => hit.memory.content)).toEqual(['Nate: I adopted a third turtle last week']);
    const mixed = await memory.search('Did Nate adopt a turtle with Caroline?', { scope: { userId: 'nate' } });
    expect(mixed.map((hit) => hit.memory.content)).toEqual(['Nate: I adopted a third turtle last week']);
    expect(await memory.search('When did Caroline go to the support group?', { scope: { userId: 'caroline' } })).toHaveLength(1);
    // Off by option, and with minScore.
    expect(await memory.search('When did Caroline go to the support group?', { scope: { userId: 'nate' }, minScore: 0 })).not.toEqual([]);
    const lenient = new Memory({
      store: inMemoryStore(),
      embedder: hashEmbedder(),
      logger: false,
      retrieval: { floor: { unknownNames: false } },
    });
    await lenient.add({ content: 'I went to the support group yesterday' });
    expect(await lenient.search('When did Caroline go to the support group?')).toHaveLength(1);
    await Promise.all([memory.close(), lenient.close()]);
  });

  it('looks a name up in the scope when no candidate holds it', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false, retrieval: { candidates: 1 } });
    await memory.add({ content: 'The turtle was adopted last week' });
    expect(await memory.search('When did Nate adopt the turtle?', { mode: 'lexical' })).toEqual([]);
    // Now a memory holds "Nate", but not the one candidate: the lookup finds it.
    await memory.add({ content: 'Nate says hello' });
    const hits = await memory.search('When did Nate adopt the turtle?', { mode: 'lexical' });
    expect(hits.map((hit) => hit.memory.content)).toEqual(['The turtle was adopted last week']);
    await memory.close();
  });

  it('finds the names of a query: capitalised words that do not start a sentence, dates and function words aside', () => {
    expect(queryNames("When did Caroline's sister visit the LGBTQ center in May?").map((name) => name.word)).toEqual(['caroline', 'lgbtq']);
    expect(queryNames('Nate won. Then what did Joanna do on Friday? I wonder').map((name) => name.word)).toEqual(['joanna']);
    expect(queryNames('kubernetes helm chart')).toEqual([]);
    expect(queryNames('What did Ada   say: Tuesday was busy, A or B?')).toEqual([{ word: 'ada', term: 'ada' }]);
  });

  it('names the field of a bad floor option', () => {
    expect(() => new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), retrieval: { floor: { coverage: 2 } } })).toThrow(
      /retrieval\.floor\.coverage/,
    );
    expect(
      () => new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), retrieval: { floor: { unknownNames: 'yes' as never } } }),
    ).toThrow(/retrieval\.floor\.unknownNames/);
  });
});
