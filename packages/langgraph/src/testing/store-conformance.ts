/**
 * A conformance suite for LangGraph.js stores (`BaseStore`), run differentially: every case runs
 * the same script on the store under test and on LangGraph's own `InMemoryStore` (the oracle) and
 * expects the same observable results, plus absolute expectations where the contract is clear.
 *
 * Written anew (no code copied) from the behaviours checked by LangGraph.js's own store tests,
 * read in langchain-ai/langgraphjs: `libs/checkpoint-postgres/src/tests/store.int.test.ts`
 * (PostgresStore, commit 12f079e) and `libs/checkpoint-mongodb/src/tests/store.int.test.ts`
 * (MongoDBStore, commit 010210c), against `@langchain/langgraph-checkpoint` 1.2.2's InMemoryStore:
 * batches, CRUD, namespace validation and listing, search with filters, pagination and queries,
 * per-put field indexing, TTL.
 *
 * Deliberate gaps of the oracle (asserted on the store under test only, each saying why):
 * - Order of a search without `query` is unspecified (InMemoryStore: insertion order; database
 *   stores: most recent first): compared as sets.
 * - Reads in the same batch as writes: InMemoryStore answers them from the state before the
 *   batch's writes, database stores after; not compared.
 * - Ranking of a `query` depends on the retrieval method: only the exact-match winner, the result
 *   count, score range and order are compared.
 * - InMemoryStore has no TTL: TTL cases run only on stores that give a `ttl` factory.
 */
import type { BaseStore, Item } from '@langchain/langgraph-checkpoint';
import { InMemoryStore } from '@langchain/langgraph-checkpoint';
import { afterEach, describe, expect, it as vitestIt } from 'vitest';
import { ConformanceEmbeddings } from './conformance-embeddings.js';

export interface ConformanceStoreOptions {
  /** Value paths whose text `search({ query })` ranks; undefined = the whole value. */
  fields?: string[];
}

export interface TtlStoreOptions extends ConformanceStoreOptions {
  /** Minutes an item lives when its put names no TTL. */
  defaultTtl?: number;
  refreshOnRead?: boolean;
  /** The clock the store must use, in epoch milliseconds: the suite moves it forward. */
  now: () => number;
}

/** A store with TTL as LangGraph's PostgresStore offers it: put's fifth argument, and a sweeper. */
export interface TtlStore extends BaseStore {
  put(
    namespace: string[],
    key: string,
    value: Record<string, unknown>,
    index?: false | string[],
    options?: { ttl?: number | null },
  ): Promise<void>;
  sweepExpiredItems(): Promise<number>;
}

export interface StoreConformanceOptions {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty store for each test. */
  create: (options: ConformanceStoreOptions) => BaseStore | Promise<BaseStore>;
  /** Called after each test with each store it made. Default: `store.stop()`. */
  cleanup?: (store: BaseStore) => void | Promise<void>;
  /** A reason to skip the whole suite (e.g. no database here). */
  skip?: string;
  /**
   * The reference every case is compared with. Default: LangGraph's `InMemoryStore` with
   * deterministic bag-of-words embeddings (`ConformanceEmbeddings`). `false`: absolute checks only.
   */
  oracle?: ((options: ConformanceStoreOptions) => BaseStore) | false;
  /** True when `search` with a `query` ranks results and gives each a 0–1 `score`. Default true. */
  ranked?: boolean;
  /**
   * Cases to skip for this store, by test title, each with its reason (shown in the test name).
   * The oracle's own known quirks are listed in `IN_MEMORY_STORE_QUIRKS`.
   */
  skipCases?: Record<string, string>;
  /** A factory for TTL cases; without it they are skipped with the reason. */
  ttl?: (options: TtlStoreOptions) => TtlStore | Promise<TtlStore>;
}

type Shape = { namespace: string[]; key: string; value: Record<string, unknown> };

function shape(item: Item | null): Shape | null {
  return item ? { namespace: item.namespace, key: item.key, value: item.value } : null;
}

function sortedShapes(items: Item[]): Shape[] {
  return items
    .map((item) => shape(item) as Shape)
    .sort((a, b) => JSON.stringify([a.key, a.namespace]).localeCompare(JSON.stringify([b.key, b.namespace])));
}

const docs: Array<[string[], string, Record<string, unknown>]> = [
  [
    ['docs'],
    'doc1',
    {
      title: 'JavaScript Guide',
      content: 'Complete guide to JavaScript programming',
      category: 'programming',
      difficulty: 'beginner',
      pages: 9,
      tags: ['javascript', 'web'],
    },
  ],
  [
    ['docs'],
    'doc2',
    {
      title: 'TypeScript Handbook',
      content: 'Advanced TypeScript programming techniques',
      category: 'programming',
      difficulty: 'intermediate',
      pages: 10,
      tags: ['typescript', 'types'],
    },
  ],
  [
    ['docs'],
    'doc3',
    {
      title: 'Python Basics',
      content: 'Introduction to the Python programming language',
      category: 'programming',
      difficulty: 'beginner',
      pages: 100,
      tags: ['python'],
    },
  ],
  [
    ['docs', 'archive'],
    'doc4',
    {
      title: 'Perl Cookbook',
      content: 'Old recipes for text processing in Perl',
      category: 'programming',
      difficulty: 'advanced',
      pages: 2,
      tags: ['perl'],
    },
  ],
  [
    ['recipes'],
    'recipe1',
    {
      title: 'Chocolate Cake',
      content: 'Delicious chocolate cake recipe with detailed instructions',
      category: 'dessert',
      difficulty: 'easy',
      pages: 1,
      tags: ['cake'],
    },
  ],
];

/**
 * Cases where LangGraph's InMemoryStore itself departs from the store contract; pass it as
 * `skipCases` when running the suite on InMemoryStore, and the oracle is not consulted for them.
 */
export const IN_MEMORY_STORE_QUIRKS: Record<string, string> = {
  'no longer lists a namespace once its last item is deleted':
    'InMemoryStore never removes an emptied namespace from its map, so listNamespaces keeps returning it',
};

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function defaultOracle(options: ConformanceStoreOptions): BaseStore {
  return new InMemoryStore({
    index: {
      dims: ConformanceEmbeddings.dimensions,
      embeddings: new ConformanceEmbeddings(),
      ...(options.fields ? { fields: options.fields } : {}),
    },
  });
}

/** Registers the suite with vitest. */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  const oracleFactory = options.oracle === undefined ? defaultOracle : options.oracle;
  const ranked = options.ranked ?? true;
  const made: BaseStore[] = [];

  async function subject(storeOptions: ConformanceStoreOptions = {}): Promise<BaseStore> {
    const store = await options.create(storeOptions);
    made.push(store);
    return store;
  }

  /** Runs a script on the store under test and on the oracle; returns both results. */
  async function both<Result>(
    script: (store: BaseStore) => Promise<Result>,
    storeOptions: ConformanceStoreOptions = {},
  ): Promise<{ actual: Result; expected: Result | undefined }> {
    const actual = await script(await subject(storeOptions));
    const expected = oracleFactory ? await script(oracleFactory(storeOptions)) : undefined;
    return { actual, expected };
  }

  function expectSame<Result>(result: { actual: Result; expected: Result | undefined }): void {
    if (oracleFactory) expect(result.actual).toEqual(result.expected);
  }

  async function seed(store: BaseStore): Promise<void> {
    for (const [namespace, key, value] of docs) await store.put(namespace, key, value);
  }

  /** `it`, unless the store skips this case (the reason goes into the test name). */
  const it = (title: string, ...rest: [() => Promise<void>] | [{ timeout?: number }, () => Promise<void>]) => {
    const reason = options.skipCases?.[title];
    if (reason) return vitestIt.skip(`${title} (skipped: ${reason})`, () => {});
    return (vitestIt as (title: string, ...rest: unknown[]) => void)(title, ...rest);
  };
  it.skip = vitestIt.skip;

  suite(`LangGraph store conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    afterEach(async () => {
      for (const store of made.splice(0)) await (options.cleanup ? options.cleanup(store) : store.stop());
    });

    describe('batch', () => {
      it('answers a mixed batch in operation order, puts with undefined', async () => {
        const result = await both(async (store) => {
          await seed(store);
          const results = await store.batch([
            { namespace: ['docs'], key: 'doc1' },
            { namespacePrefix: ['recipes'], limit: 10, offset: 0 },
            { namespace: ['batch'], key: 'new', value: { data: 'written' } },
            { matchConditions: [{ matchType: 'prefix', path: ['docs'] }], limit: 10, offset: 0 },
            { namespace: ['docs'], key: 'missing' },
          ]);
          return [
            shape(results[0] as unknown as Item | null),
            sortedShapes(results[1] as unknown as Item[]),
            results[2] ?? null,
            results[3],
            results[4],
            shape(await store.get(['batch'], 'new')),
          ];
        });
        expect(result.actual[0]).toMatchObject({ key: 'doc1', value: { title: 'JavaScript Guide' } });
        // A put's result is empty: undefined (database stores) or null (InMemoryStore).
        expect(result.actual[2]).toBeNull();
        expect(result.actual[3]).toEqual([['docs'], ['docs', 'archive']]);
        expect(result.actual[4]).toBeNull();
        expect(result.actual[5]).toEqual({ namespace: ['batch'], key: 'new', value: { data: 'written' } });
        expectSame(result);
      });

      it('writes nothing when one operation of the batch is invalid', async () => {
        const result = await both(async (store) => {
          const failure = await store
            .batch([
              { namespace: ['batch'], key: 'first', value: { data: 'first' } },
              { namespace: [], key: 'second', value: { data: 'invalid' } },
            ])
            .then(
              () => 'resolved',
              (error: Error) => error.message,
            );
          return [failure, await store.get(['batch'], 'first')];
        });
        expect(result.actual[0]).toContain('Namespace cannot be empty');
        expect(result.actual[1]).toBeNull();
        expectSame(result);
      });

      it('keeps the last write of a key within one batch', async () => {
        const result = await both(async (store) => {
          await store.batch([
            { namespace: ['batch'], key: 'k', value: { version: 1 } },
            { namespace: ['batch'], key: 'k', value: { version: 2 } },
            { namespace: ['batch'], key: 'gone', value: { version: 1 } },
            { namespace: ['batch'], key: 'gone', value: null },
          ]);
          return [shape(await store.get(['batch'], 'k')), await store.get(['batch'], 'gone')];
        });
        expect(result.actual).toEqual([{ namespace: ['batch'], key: 'k', value: { version: 2 } }, null]);
        expectSame(result);
      });
    });

    describe('crud', () => {
      it('stores and retrieves an item with its namespace, key, value and Date timestamps', async () => {
        const store = await subject();
        await store.put(['crud', 'simple'], 'item1', { foo: 'bar', num: 42 });
        const item = await store.get(['crud', 'simple'], 'item1');
        expect(shape(item)).toEqual({ namespace: ['crud', 'simple'], key: 'item1', value: { foo: 'bar', num: 42 } });
        expect(item?.createdAt).toBeInstanceOf(Date);
        expect(item?.updatedAt).toBeInstanceOf(Date);
      });

      it('replaces the value on a second put, keeping createdAt and moving updatedAt', async () => {
        const store = await subject();
        await store.put(['crud', 'update'], 'item2', { foo: 'bar' });
        const original = await store.get(['crud', 'update'], 'item2');
        // Read the times now: InMemoryStore updates the item object it returned in place.
        const createdAt = original?.createdAt.getTime();
        const updatedAt = original?.updatedAt.getTime() ?? Number.POSITIVE_INFINITY;
        await sleep(5);
        await store.put(['crud', 'update'], 'item2', { foo: 'baz', extra: 123 });
        const updated = await store.get(['crud', 'update'], 'item2');
        expect(updated?.value).toEqual({ foo: 'baz', extra: 123 });
        expect(updated?.createdAt.getTime()).toBe(createdAt);
        expect(updated?.updatedAt.getTime()).toBeGreaterThan(updatedAt);
      });

      it('deletes an item, and deleting a missing one is a no-op', async () => {
        const result = await both(async (store) => {
          await store.put(['crud', 'delete'], 'item3', { toDelete: true });
          await store.delete(['crud', 'delete'], 'item3');
          await store.delete(['crud', 'delete'], 'never-written');
          const afterDelete = await store.get(['crud', 'delete'], 'item3');
          await store.put(['crud', 'delete'], 'item3', { back: true });
          return [afterDelete, shape(await store.get(['crud', 'delete'], 'item3'))];
        });
        expect(result.actual).toEqual([null, { namespace: ['crud', 'delete'], key: 'item3', value: { back: true } }]);
        expectSame(result);
      });

      it('round-trips complex JSON values', async () => {
        const value = {
          string: 'test ünïcödé 🚀',
          number: 42.5,
          negative: -1,
          boolean: true,
          null: null,
          array: [1, 2, 3, 'four', { five: 5 }],
          nested: { deep: { value: 'nested data' } },
          empty: {},
        };
        const result = await both(async (store) => {
          await store.put(['crud', 'complex'], 'item4', value);
          return (await store.get(['crud', 'complex'], 'item4'))?.value;
        });
        expect(result.actual).toEqual(value);
        expectSame(result);
      });

      it('returns null for a missing item', async () => {
        const result = await both(async (store) => store.get(['crud', 'missing'], 'nope'));
        expect(result.actual).toBeNull();
        expectSame(result);
      });

      it('keeps items with equal values, and equal keys in other namespaces, apart', async () => {
        const result = await both(async (store) => {
          await store.put(['twins', 'a'], 'same', { text: 'identical value' });
          await store.put(['twins', 'b'], 'same', { text: 'identical value' });
          await store.put(['twins', 'a'], 'other', { text: 'identical value' });
          await store.delete(['twins', 'b'], 'same');
          return sortedShapes(await store.search(['twins'], { limit: 10 }));
        });
        expect(result.actual).toEqual([
          { namespace: ['twins', 'a'], key: 'other', value: { text: 'identical value' } },
          { namespace: ['twins', 'a'], key: 'same', value: { text: 'identical value' } },
        ]);
        expectSame(result);
      });
    });

    describe('namespaces', () => {
      const invalid: Array<[string, string[], string]> = [
        ['an empty namespace', [], 'Namespace cannot be empty'],
        ['a label with a period', ['invalid.namespace'], 'Namespace labels cannot contain periods'],
        ['an empty label', ['valid', ''], 'Namespace labels cannot be empty strings'],
        ['a non-string label', ['valid', 123 as unknown as string], 'Namespace labels must be strings'],
        ['the reserved root label', ['langgraph'], 'Root label for namespace cannot be "langgraph"'],
      ];
      for (const [what, namespace, message] of invalid) {
        it(`rejects a put into ${what}`, async () => {
          const store = await subject();
          await expect(store.put(namespace, 'key', { foo: 'bar' })).rejects.toThrow(message);
          expect(await store.listNamespaces()).toEqual([]);
        });
      }

      it('lists namespaces with prefix, suffix, wildcards, maxDepth, limit and offset', async () => {
        const result = await both(async (store) => {
          await store.put(['docs', 'v1'], 'item1', { data: 'test' });
          await store.put(['docs', 'v2'], 'item2', { data: 'test' });
          await store.put(['docs', 'v2', 'drafts'], 'item3', { data: 'test' });
          await store.put(['docsx', 'v1'], 'item4', { data: 'test' });
          await store.put(['cache', 'temp'], 'item5', { data: 'test' });
          await store.put(['users', 'alice', 'memories'], 'm1', { data: 'test' });
          await store.put(['users', 'bob', 'memories'], 'm2', { data: 'test' });
          await store.put(['users', 'bob', 'settings'], 's1', { data: 'test' });
          return {
            all: await store.listNamespaces(),
            prefix: await store.listNamespaces({ prefix: ['docs'] }),
            suffix: await store.listNamespaces({ suffix: ['v1'] }),
            wildcard: await store.listNamespaces({ prefix: ['users', '*', 'memories'] }),
            wildcardSuffix: await store.listNamespaces({ suffix: ['*', 'memories'] }),
            both: await store.listNamespaces({ prefix: ['users'], suffix: ['settings'] }),
            depth: await store.listNamespaces({ maxDepth: 1 }),
            depthUnderPrefix: await store.listNamespaces({ prefix: ['users'], maxDepth: 2 }),
            firstPage: await store.listNamespaces({ limit: 3 }),
            secondPage: await store.listNamespaces({ limit: 3, offset: 3 }),
            none: await store.listNamespaces({ prefix: ['nothing'] }),
          };
        });
        expect(result.actual.prefix).toEqual([
          ['docs', 'v1'],
          ['docs', 'v2'],
          ['docs', 'v2', 'drafts'],
        ]);
        expect(result.actual.suffix).toEqual([
          ['docs', 'v1'],
          ['docsx', 'v1'],
        ]);
        expect(result.actual.wildcard).toEqual([
          ['users', 'alice', 'memories'],
          ['users', 'bob', 'memories'],
        ]);
        expect(result.actual.depth).toEqual([['cache'], ['docs'], ['docsx'], ['users']]);
        expect(result.actual.firstPage).toHaveLength(3);
        expect(result.actual.none).toEqual([]);
        expectSame(result);
      });

      it('no longer lists a namespace once its last item is deleted', async () => {
        // Not compared with the oracle: see IN_MEMORY_STORE_QUIRKS.
        const store = await subject();
        await store.put(['short', 'lived'], 'only', { data: 1 });
        await store.put(['stays'], 'kept', { data: 1 });
        await store.delete(['short', 'lived'], 'only');
        expect(await store.listNamespaces()).toEqual([['stays']]);
      });
    });

    describe('search', () => {
      it('returns only items under a segment-anchored namespace prefix', async () => {
        const result = await both(async (store) => {
          await seed(store);
          await store.put(['docsx'], 'lookalike', { title: 'not a doc' });
          return {
            docs: sortedShapes(await store.search(['docs'], { limit: 20 })),
            archive: sortedShapes(await store.search(['docs', 'archive'], { limit: 20 })),
            everything: (await store.search([], { limit: 20 })).length,
            none: await store.search(['nonexistent']),
          };
        });
        expect(result.actual.docs.map((item) => item.key)).toEqual(['doc1', 'doc2', 'doc3', 'doc4']);
        expect(result.actual.archive.map((item) => item.key)).toEqual(['doc4']);
        expect(result.actual.everything).toBe(6);
        expect(result.actual.none).toEqual([]);
        expectSame(result);
      });

      const filters: Array<[string, Record<string, unknown>, string[]]> = [
        ['a bare value (equality)', { category: 'programming' }, ['doc1', 'doc2', 'doc3', 'doc4']],
        ['$eq', { difficulty: { $eq: 'beginner' } }, ['doc1', 'doc3']],
        ['$ne with another condition', { category: 'programming', difficulty: { $ne: 'advanced' } }, ['doc1', 'doc2', 'doc3']],
        ['$in', { difficulty: { $in: ['beginner', 'intermediate'] } }, ['doc1', 'doc2', 'doc3']],
        ['$nin', { difficulty: { $nin: ['beginner', 'intermediate'] } }, ['doc4']],
        // Numeric, not lexicographic: as strings, "100" < "9" and "10" < "9".
        ['$gt on numbers', { pages: { $gt: 9 } }, ['doc2', 'doc3']],
        ['$gte on numbers', { pages: { $gte: 9 } }, ['doc1', 'doc2', 'doc3']],
        ['$lt on numbers', { pages: { $lt: 10 } }, ['doc1', 'doc4']],
        ['$lte with $gt (a range)', { pages: { $gt: 2, $lte: 10 } }, ['doc1', 'doc2']],
        ['a field no item has', { missing: 'x' }, []],
      ];
      for (const [what, filter, keys] of filters) {
        it(`filters with ${what}`, async () => {
          const result = await both(async (store) => {
            await seed(store);
            return sortedShapes(await store.search(['docs'], { filter, limit: 20 })).map((item) => item.key);
          });
          expect(result.actual).toEqual(keys);
          expectSame(result);
        });
      }

      it('compares decimal numbers in filters, alone and with another condition', async () => {
        const result = await both(async (store) => {
          const products: Array<[string, Record<string, unknown>]> = [
            ['budget', { name: 'Budget Item', price: 29.99, category: 'electronics' }],
            ['standard', { name: 'Standard Item', price: 99.99, category: 'electronics' }],
            ['premium', { name: 'Premium Item', price: 299.99, category: 'electronics' }],
            ['book', { name: 'Book', price: 19.99, category: 'books' }],
          ];
          for (const [key, value] of products) await store.put(['products'], key, value);
          const keys = async (filter: Record<string, unknown>) =>
            (await store.search(['products'], { filter, limit: 100 })).map((item) => item.key).sort();
          return {
            over100: await keys({ price: { $gt: 100 } }),
            upTo50: await keys({ price: { $lte: 50 } }),
            electronicsFrom50: await keys({ category: 'electronics', price: { $gte: 50 } }),
          };
        });
        expect(result.actual).toEqual({ over100: ['premium'], upTo50: ['book', 'budget'], electronicsFrom50: ['premium', 'standard'] });
        expectSame(result);
      });

      it('pages with limit and offset without overlap or loss', async () => {
        const result = await both(async (store) => {
          for (let index = 0; index < 7; index++) await store.put(['paged'], `item${index}`, { index });
          const pages = [];
          for (let offset = 0; offset < 8; offset += 3) pages.push(await store.search(['paged'], { limit: 3, offset }));
          return {
            sizes: pages.map((page) => page.length),
            keys: pages
              .flat()
              .map((item) => item.key)
              .sort(),
          };
        });
        expect(result.actual.sizes).toEqual([3, 3, 1]);
        expect(result.actual.keys).toEqual(['item0', 'item1', 'item2', 'item3', 'item4', 'item5', 'item6']);
        expectSame(result);
      });

      const rankedIt = ranked
        ? it
        : (title: string, body: () => Promise<void>) =>
            it.skip(`${title} (skipped: the store does not rank query results by relevance, ranked: false)`, body);
      rankedIt('ranks a query: the exact match first, scores from 0 to 1 in descending order', async () => {
        const result = await both(
          async (store) => {
            await seed(store);
            const hits = await store.search(['docs'], { query: 'Advanced TypeScript programming techniques', limit: 3 });
            return { first: hits[0]?.key, count: hits.length, scores: hits.map((hit) => hit.score) };
          },
          { fields: ['content'] },
        );
        expect(result.actual.first).toBe('doc2');
        expect(result.actual.count).toBe(3);
        for (const score of result.actual.scores) {
          expect(typeof score).toBe('number');
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(1);
        }
        const scores = result.actual.scores as number[];
        expect([...scores].sort((a, b) => b - a)).toEqual(scores);
        if (result.expected) expect([result.actual.first, result.actual.count]).toEqual([result.expected.first, result.expected.count]);
      });

      rankedIt('applies the filter to a query', async () => {
        const result = await both(
          async (store) => {
            await seed(store);
            const hits = await store.search(['docs'], { query: 'guide to programming', filter: { difficulty: 'beginner' }, limit: 10 });
            return hits.map((hit) => hit.key).sort();
          },
          { fields: ['title', 'content'] },
        );
        expect(result.actual).toEqual(['doc1', 'doc3']);
        expectSame(result);
      });

      it('stores puts with mixed index configurations in one batch', async () => {
        const result = await both(
          async (store) => {
            await store.batch([
              { namespace: ['mixed'], key: 'always', value: { searchable: 'yes' } },
              { namespace: ['mixed'], key: 'never', value: { searchable: 'no' }, index: false },
              { namespace: ['mixed'], key: 'selective', value: { field1: 'search me', field2: 'ignore me' }, index: ['field1'] },
            ]);
            const results = await store.batch([
              { namespace: ['mixed'], key: 'always' },
              { namespace: ['mixed'], key: 'never' },
              { namespace: ['mixed'], key: 'selective' },
            ]);
            return results.map((item) => (item as unknown as Item | null)?.value);
          },
          { fields: ['searchable'] },
        );
        expect(result.actual).toEqual([{ searchable: 'yes' }, { searchable: 'no' }, { field1: 'search me', field2: 'ignore me' }]);
        expectSame(result);
      });

      rankedIt('indexes the fields a put names, including [*] paths, instead of the default ones', async () => {
        const result = await both(
          async (store) => {
            await store.put(['fields'], 'a', { title: 'Quarterly revenue report', body: 'zebra giraffe' }, ['title']);
            await store.put(['fields'], 'b', { title: 'Unrelated', chapters: [{ text: 'zebra migration' }, { text: 'giraffe necks' }] }, [
              'chapters[*].text',
            ]);
            await store.put(['fields'], 'c', { title: 'zebra giraffe zebra giraffe' }, false);
            const byTitle = await store.search(['fields'], { query: 'quarterly revenue report', limit: 1 });
            const byChapters = await store.search(['fields'], { query: 'zebra migration giraffe necks', limit: 1 });
            const all = await store.search(['fields'], { query: 'zebra giraffe', limit: 10 });
            return {
              byTitle: byTitle[0]?.key,
              byChapters: byChapters[0]?.key,
              // An item put with `index: false` is never ranked: it comes after the ranked ones, without a score.
              unindexedScore: all.find((hit) => hit.key === 'c')?.score,
              rankedFirst: all.findIndex((hit) => hit.score === undefined) <= all.findIndex((hit) => hit.key === 'c'),
              unrankedLast: all.every(
                (hit, index) => hit.score !== undefined || all.slice(index).every((later) => later.score === undefined),
              ),
              count: all.length,
            };
          },
          { fields: ['body'] },
        );
        expect(result.actual).toEqual({
          byTitle: 'a',
          byChapters: 'b',
          unindexedScore: undefined,
          rankedFirst: true,
          unrankedLast: true,
          count: 3,
        });
        expectSame(result);
      });
    });

    const ttlSuite = options.ttl ? describe : describe.skip;
    ttlSuite(`ttl${options.ttl ? '' : ' (skipped: the store offers no TTL factory; InMemoryStore has none)'}`, () => {
      const minute = 60_000;
      async function ttlStore(storeOptions: Omit<TtlStoreOptions, 'now'>) {
        let clock = Date.UTC(2026, 0, 1);
        const store = await (options.ttl as NonNullable<StoreConformanceOptions['ttl']>)({ ...storeOptions, now: () => clock });
        made.push(store);
        const advance = (minutes: number) => {
          clock += minutes * minute;
        };
        return { store, advance };
      }

      it('hides an item once its TTL has passed, from get, search and listNamespaces', async () => {
        const { store, advance } = await ttlStore({ refreshOnRead: false });
        await store.put(['ttl'], 'short', { data: 'expires' }, undefined, { ttl: 5 });
        await store.put(['ttl'], 'forever', { data: 'stays' });
        await store.put(['gone'], 'short', { data: 'expires' }, undefined, { ttl: 5 });
        advance(4);
        expect((await store.get(['ttl'], 'short'))?.value).toEqual({ data: 'expires' });
        advance(2);
        expect(await store.get(['ttl'], 'short')).toBeNull();
        expect((await store.search(['ttl'])).map((item) => item.key)).toEqual(['forever']);
        expect(await store.listNamespaces()).toEqual([['ttl']]);
        expect(await store.sweepExpiredItems()).toBe(2);
        expect(await store.sweepExpiredItems()).toBe(0);
      });

      it('applies defaultTtl unless a put says otherwise (null: never expires)', async () => {
        const { store, advance } = await ttlStore({ defaultTtl: 1, refreshOnRead: false });
        await store.put(['ttl'], 'default', { data: 1 });
        await store.put(['ttl'], 'longer', { data: 2 }, undefined, { ttl: 10 });
        await store.put(['ttl'], 'never', { data: 3 }, undefined, { ttl: null });
        advance(2);
        expect((await store.search(['ttl'])).map((item) => item.key).sort()).toEqual(['longer', 'never']);
        advance(60 * 24 * 365);
        expect((await store.search(['ttl'])).map((item) => item.key)).toEqual(['never']);
      });

      it('restarts the TTL on every read with refreshOnRead', async () => {
        const { store, advance } = await ttlStore({ defaultTtl: 5, refreshOnRead: true });
        await store.put(['ttl'], 'read', { data: 'kept alive by reads' });
        await store.put(['ttl'], 'unread', { data: 'left alone' });
        for (let step = 0; step < 3; step++) {
          advance(4);
          expect(await store.get(['ttl'], 'read')).not.toBeNull();
        }
        expect(await store.get(['ttl'], 'unread')).toBeNull();
        advance(4);
        expect((await store.search(['ttl'])).map((item) => item.key)).toEqual(['read']);
        advance(4);
        expect((await store.search(['ttl'])).map((item) => item.key)).toEqual(['read']);
        advance(6);
        expect(await store.get(['ttl'], 'read')).toBeNull();
      });

      it('rejects a TTL that is not a positive number of minutes', async () => {
        const { store } = await ttlStore({});
        await expect(store.put(['ttl'], 'bad', { data: 1 }, undefined, { ttl: -1 })).rejects.toThrow(
          'ttl must be a positive number of minutes',
        );
        expect(await store.get(['ttl'], 'bad')).toBeNull();
      });
    });
  });
}
