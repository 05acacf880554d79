// Batched add into an existing store, in its own process: `addMany` × 1,000 for `count` memories
// (the bench corpus from `offset` on), then close. Prints JSON: the CPU time (user + system) and
// wall time a memory, for the adds alone and with the close (which catches the indexes up and
// writes their snapshots). For A/B comparisons of the write path on a copy of a large file.
//   node bench/lib/add-cpu.mjs <path> <offset> <count> [users]
const [path, offsetText, countText, usersText] = process.argv.slice(2);
const offset = Number(offsetText);
const count = Number(countText);
const users = Number(usersText ?? 20);
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const { memories } = await import('./corpus.mjs');
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
await memory.ready();
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const startedCpu = cpu();
const started = performance.now();
for (let at = offset; at < offset + count; at += 1000) await memory.addMany(memories(at, Math.min(at + 1000, offset + count), users));
const addedCpu = cpu();
const added = performance.now();
await memory.close();
const closedCpu = cpu();
const closed = performance.now();
process.stdout.write(
  JSON.stringify({
    count,
    addPerSecond: Math.round(count / ((added - started) / 1000)),
    cpuMicrosecondsPerMemory: Math.round(((addedCpu - startedCpu) * 1000) / count),
    cpuMicrosecondsPerMemoryWithClose: Math.round(((closedCpu - startedCpu) * 1000) / count),
    wallMicrosecondsPerMemory: Math.round(((added - started) * 1000) / count),
    closeMs: Math.round(closed - added),
  }),
);
