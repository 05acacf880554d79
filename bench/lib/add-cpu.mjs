// Batched add into an existing store, in its own process: `addMany` × 1,000 for `count` memories
// (the bench corpus from `offset` on), then close. Prints JSON: the CPU time (user + system) and
// wall time a memory, for the adds alone and with the close (which catches the indexes up and
// writes their snapshots); the bytes the process wrote a memory (`wchar` of /proc/self/io: the
// write-ahead log, checkpoints and snapshots); and the write-ahead-log pages the first batch wrote.
// For A/B comparisons of the write path on a copy of a large file.
//   node bench/lib/add-cpu.mjs <path> <offset> <count> [users] [warmup]
//
// `warmup` memories (default 10,000) are added first, untimed: a connection that has written that
// many follows its writes (its indexes load once, then catch up every 10,000 memories, as in a
// bulk load), so the timed part is the steady state of a long bulk load, not the first load of
// the indexes from the snapshots.
//
// WAL pages: before the first batch the log is checkpointed empty and a second connection opens a
// read transaction, so no checkpoint can copy or reset the frames the batch appends; the log's
// size after the batch is then the frames it wrote (a page written twice, by a cache spill and
// again at commit, counts twice, as it costs twice). The reader closes after that batch.
import { readFileSync, statSync } from 'node:fs';

const [path, offsetText, countText, usersText, warmupText] = process.argv.slice(2);
const offset = Number(offsetText);
const count = Number(countText);
const users = Number(usersText ?? 20);
const warmup = Number(warmupText ?? 10_000);
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const { default: Database } = await import('better-sqlite3');
const { memories } = await import('./corpus.mjs');
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
await memory.ready();
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const writtenBytes = () => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);

for (let at = offset; at < offset + warmup; at += 1000) await memory.addMany(memories(at, Math.min(at + 1000, offset + warmup), users));
const timedOffset = offset + warmup;

const reader = new Database(path);
reader.pragma('wal_checkpoint(TRUNCATE)');
const pageBytes = reader.pragma('page_size', { simple: true });
reader.exec('BEGIN');
reader.prepare('SELECT count(*) FROM engram_meta').get();

const startedCpu = cpu();
const startedBytes = writtenBytes();
const started = performance.now();
let walPagesFirstBatch = null;
for (let at = timedOffset; at < timedOffset + count; at += 1000) {
  await memory.addMany(memories(at, Math.min(at + 1000, timedOffset + count), users));
  if (walPagesFirstBatch === null) {
    walPagesFirstBatch = Math.round((statSync(`${path}-wal`).size - 32) / (pageBytes + 24));
    reader.exec('COMMIT');
    reader.close();
  }
}
const addedCpu = cpu();
const addedBytes = writtenBytes();
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
    writtenBytesPerMemory: Math.round((addedBytes - startedBytes) / count),
    walPagesFirstBatch,
    closeMs: Math.round(closed - added),
  }),
);
