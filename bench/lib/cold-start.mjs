// One fresh process: import engram, open an existing store, run the first search (and then a
// few more). Prints JSON timings and the process's resident memory. Used by the scale suite.
//   node bench/lib/cold-start.mjs <path> <query> <userId>
const [path, query, userId] = process.argv.slice(2);
const began = performance.now();
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const imported = performance.now();
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
await memory.ready();
const opened = performance.now();
await memory.search(query, { limit: 10, scope: { userId } });
const searched = performance.now();
for (let index = 0; index < 50; index++) await memory.search(`${query} ${index}`, { limit: 10 });
const rssBytes = process.memoryUsage().rss;
await memory.close();
process.stdout.write(
  JSON.stringify({
    processStartMs: began,
    importMs: imported - began,
    openMs: opened - imported,
    firstSearchMs: searched - opened,
    totalMs: searched - began,
    rssBytes,
  }),
);
