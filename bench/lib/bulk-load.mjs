// A bulk load in its own process, as a user's import script would do it: `addMany` in batches of
// 1,000 into a new SQLite file, no search, then close. Prints JSON: records/s and the time close took.
//   node bench/lib/bulk-load.mjs <path> <size> [users]
const [path, sizeText, usersText] = process.argv.slice(2);
const size = Number(sizeText);
const users = Number(usersText ?? 20);
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const { memories } = await import('./corpus.mjs');
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
await memory.ready();
const began = performance.now();
for (let offset = 0; offset < size; offset += 1000) {
  await memory.addMany(memories(offset, Math.min(offset + 1000, size), users));
  if (offset % 100_000 === 99_000)
    process.stderr.write(`bulk load: ${offset + 1000} (${Math.round((offset + 1000) / ((performance.now() - began) / 1000))}/s)\n`);
}
const loaded = performance.now();
await memory.close();
const closed = performance.now();
process.stdout.write(
  JSON.stringify({
    size,
    addPerSecond: Math.round(size / ((loaded - began) / 1000)),
    loadMs: loaded - began,
    closeMs: closed - loaded,
    rssBytes: process.memoryUsage().rss,
  }),
);
