// Tag-filtered searches on an existing store, in its own process (for A/B comparisons of the tag
// layout on copies of the 1M file). After one unfiltered search (which loads the indexes), each
// filter runs `rounds` hybrid searches (limit 10, the bench queries); prints JSON: for each
// filter, the median wall and CPU time a search in ms.
//   node bench/lib/tag-search.mjs <path> [rounds]
// The filters are tags of the 1M bench corpus (2,124 tags, 2 a memory), from the most common
// (~36,000 memories) to the rarest (~300), `all` of two, and a tag within one user's scope.
const [path, roundsText] = process.argv.slice(2);
const rounds = Number(roundsText ?? 40);
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const { queries } = await import('./corpus.mjs');
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
const texts = queries(rounds, 23);
await memory.search(texts[0], { limit: 10 });
const filters = {
  'any: common tag (36k)': { tags: { any: ['vogulqui'] } },
  'any: tag of 19k': { tags: { any: ['zeru'] } },
  'any: tag of 900': { tags: { any: ['dradraka'] } },
  'any: rarest tag (300)': { tags: { any: ['drakaka'] } },
  'all: two tags': { tags: { all: ['vogulqui', 'zeru'] } },
  'user scope + tag of 19k': { scope: { userId: 'user-3' }, tags: { any: ['zeru'] } },
};
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] * 100) / 100;
};
const results = {};
for (const [name, filter] of Object.entries(filters)) {
  const wall = [];
  const cpu = [];
  for (const text of texts) {
    const usage = process.cpuUsage();
    const started = performance.now();
    await memory.search(text, { limit: 10, ...filter });
    wall.push(performance.now() - started);
    const used = process.cpuUsage(usage);
    cpu.push((used.user + used.system) / 1000);
  }
  results[name] = { wallMs: median(wall), cpuMs: median(cpu) };
}
await memory.close();
process.stdout.write(JSON.stringify(results));
