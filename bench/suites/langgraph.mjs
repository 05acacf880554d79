// LangGraph store: EngramStore on a SQLite file next to LangGraph's InMemoryStore (the reference,
// a Map in process memory), same items, same 64-dimension hash embeddings, interleaved so machine
// load hits both alike. Puts one at a time and in batches, get, filtered search, query search and
// listNamespaces. The question it answers: what a durable, hybrid-search store costs per call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngramStore } from '@engram/langgraph';
import { InMemoryStore } from '@langchain/langgraph-checkpoint';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { random } from '../lib/corpus.mjs';
import { formatCount, formatMs, interleave } from '../lib/stats.mjs';

const topics = ['billing', 'deploys', 'latency', 'onboarding', 'search', 'security', 'pricing', 'support'];

export async function run({ full = false, progress = () => {} } = {}) {
  const itemCount = full ? 20_000 : 2_000;
  const userCount = 50;
  const queryCount = 200;
  const next = random(11);
  const pick = (values) => values[Math.floor(next() * values.length)];
  const embedder = hashEmbedder({ dimensions: 64 });
  // InMemoryStore calls only these two methods of a LangChain Embeddings.
  const embeddings = {
    embedDocuments: async (texts) => (await embedder.embed(texts)).map((vector) => Array.from(vector)),
    embedQuery: async (text) => Array.from((await embedder.embed([text]))[0]),
  };
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-langgraph-'));
  const memory = new Memory({ store: sqliteStore({ path: join(directory, 'store.db') }), embedder, logger: false });
  const stores = {
    engram: new EngramStore({ memory, index: { fields: ['text'] } }),
    inMemory: new InMemoryStore({ index: { dims: 64, embeddings, fields: ['text'] } }),
  };
  try {
    const item = (index) => {
      const topic = pick(topics);
      return {
        namespace: ['users', `user-${index % userCount}`, 'memories'],
        key: `item-${index}`,
        value: { text: `note ${index} about ${topic}: the ${pick(topics)} team asked about ${topic} limits`, topic, priority: index % 10 },
      };
    };
    const items = Array.from({ length: itemCount }, (_, index) => item(index));
    for (const store of Object.values(stores)) {
      for (let offset = 0; offset < itemCount; offset += 500) await store.batch(items.slice(offset, offset + 500));
    }
    progress(`${formatCount(itemCount)} items in each store`);

    const queries = Array.from({ length: queryCount }, (_, index) => ({
      user: `user-${index % userCount}`,
      key: `item-${Math.floor(next() * itemCount)}`,
      topic: pick(topics),
      extra: item(itemCount + index),
    }));
    const results = { items: itemCount, users: userCount, queries: queryCount };
    const contenders = (call) => Object.fromEntries(Object.entries(stores).map(([name, store]) => [name, (query) => call(store, query)]));
    results.put = await interleave(
      queries,
      contenders((store, query) => store.put(query.extra.namespace, `${query.extra.key}-${Math.random()}`, query.extra.value)),
    );
    results.batchPut50 = await interleave(
      queries.slice(0, 40),
      contenders((store, query) =>
        store.batch(
          Array.from({ length: 50 }, (_, index) => ({ ...query.extra, key: `${query.extra.key}-batch-${index}-${Math.random()}` })),
        ),
      ),
    );
    results.get = await interleave(
      queries,
      contenders((store, query) => store.get(['users', `user-${Number(query.key.slice(5)) % userCount}`, 'memories'], query.key)),
    );
    results.filterSearch = await interleave(
      queries,
      contenders((store, query) =>
        store.search(['users', query.user], { filter: { topic: query.topic, priority: { $gte: 5 } }, limit: 10 }),
      ),
    );
    results.querySearch = await interleave(
      queries,
      contenders((store, query) => store.search(['users', query.user], { query: `${query.topic} limits`, limit: 10 })),
    );
    results.listNamespaces = await interleave(
      queries.slice(0, 50),
      contenders((store) => store.listNamespaces({ prefix: ['users'], limit: 100 })),
    );
    progress(`query search p50: engram ${results.querySearch.engram.p50} ms, InMemoryStore ${results.querySearch.inMemory.p50} ms`);
    return { suite: 'langgraph', results, markdown: markdown(results) };
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const labels = {
    put: 'put (one item)',
    batchPut50: 'batch of 50 puts',
    get: 'get',
    filterSearch: 'search, namespace prefix + filter, limit 10',
    querySearch: 'search with query, limit 10',
    listNamespaces: 'listNamespaces (prefix)',
  };
  const lines = [
    '### LangGraph store',
    '',
    `${formatCount(results.items)} items in ${results.users} user namespaces; EngramStore on a SQLite file vs LangGraph's InMemoryStore, same 64-d hash embeddings; p50 / p95 in ms.`,
    '',
    '| call | EngramStore (SQLite) | InMemoryStore |',
    '|---|---:|---:|',
  ];
  for (const [name, label] of Object.entries(labels)) {
    const { engram, inMemory } = results[name];
    lines.push(`| ${label} | ${formatMs(engram.p50)} / ${formatMs(engram.p95)} | ${formatMs(inMemory.p50)} / ${formatMs(inMemory.p95)} |`);
  }
  lines.push(
    '',
    'InMemoryStore scans every item of the prefix and scores every vector in JavaScript; it keeps nothing across restarts.',
    '',
  );
  return lines.join('\n');
}
