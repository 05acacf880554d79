// A bulk load in its own process, as a user's import script would do it: `addMany` in batches of
// 1,000 into a new SQLite file, no search, then close. Prints JSON: records/s, the time close took
// (and each of its steps: catch-up, lexical and vector snapshots),
// and the CPU time (user + system) and bytes written (`wchar` of /proc/self/io) a memory while
// adding — figures that depend less on what else the machine runs than records/s does.
//   node bench/lib/bulk-load.mjs <path> <size> [users]
import { readFileSync } from 'node:fs';

const [path, sizeText, usersText] = process.argv.slice(2);
const size = Number(sizeText);
const users = Number(usersText ?? 20);
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const { memories } = await import('./corpus.mjs');
// What close spends its time on (catch-up, each snapshot), also shown on stderr as it goes.
const closeSteps = {};
const onClose = ({ step, done, memories, ms }) => {
  if (done) closeSteps[step] = ms;
  process.stderr.write(done ? `close: ${step} of ${memories} memories took ${ms} ms\n` : `close: ${step} of ${memories} memories…\n`);
};
const memory = new Memory({ store: sqliteStore({ path, onClose }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
await memory.ready();
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const writtenBytes = () => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
const beganCpu = cpu();
const beganBytes = writtenBytes();
const began = performance.now();
for (let offset = 0; offset < size; offset += 1000) {
  await memory.addMany(memories(offset, Math.min(offset + 1000, size), users));
  if (offset % 100_000 === 99_000)
    process.stderr.write(`bulk load: ${offset + 1000} (${Math.round((offset + 1000) / ((performance.now() - began) / 1000))}/s)\n`);
}
const loaded = performance.now();
const loadedCpu = cpu();
const loadedBytes = writtenBytes();
await memory.close();
const closed = performance.now();
process.stdout.write(
  JSON.stringify({
    size,
    addPerSecond: Math.round(size / ((loaded - began) / 1000)),
    loadMs: loaded - began,
    cpuMicrosecondsPerMemory: Math.round(((loadedCpu - beganCpu) * 1000) / size),
    writtenBytesPerMemory: Math.round((loadedBytes - beganBytes) / size),
    closeMs: closed - loaded,
    closeSteps,
    rssBytes: process.memoryUsage().rss,
  }),
);
