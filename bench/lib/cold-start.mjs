// One fresh process: import engram, open an existing store, run the first search, then more.
// Prints JSON timings and the process's resident memory after open, after the first search, and
// after 50 and (with a count of 1,000) 1,000 searches. Used by the scale suite.
//   node bench/lib/cold-start.mjs <path> <query> <userId> [searches]
import { readFileSync } from 'node:fs';

const [path, query, userId, searchesText] = process.argv.slice(2);
/** Resident memory split (Linux): anonymous (the heap, typed arrays) and file-backed (SQLite's memory-mapped pages, code). */
const residentSplit = () => {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { anonymousBytes: field('RssAnon'), fileBytes: field('RssFile') };
  } catch {
    return null;
  }
};
/** CPU time (user + system, in 10 ms ticks) of this thread alone (Linux): the first search's critical path. */
function threadCpuMs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
const searches = Number(searchesText ?? 50);
const began = performance.now();
const { Memory, hashEmbedder, sqliteStore } = await import('engram');
const imported = performance.now();
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
await memory.ready();
const opened = performance.now();
const rssAfterOpenBytes = process.memoryUsage().rss;
await memory.search(query, { limit: 10, scope: { userId } });
const searched = performance.now();
const rssAfterFirstSearchBytes = process.memoryUsage().rss;
// CPU time (user + system) of this process up to here, node's own start included: what a quiet machine's wall time approaches.
const cpuAfterFirstSearch = process.cpuUsage();
const mainThreadCpuMs = threadCpuMs();
let rssBytes = 0;
let rssAfter1000Bytes = null;
let split = null;
let usage = null;
for (let index = 0; index < searches; index++) {
  await memory.search(`${query} ${index}`, { limit: 10 });
  if (index === 49) {
    rssBytes = process.memoryUsage().rss;
    split = residentSplit();
    usage = process.memoryUsage();
  }
  if (index === 999) rssAfter1000Bytes = process.memoryUsage().rss;
}
const closing = performance.now();
await memory.close();
const closed = performance.now();
process.stdout.write(
  JSON.stringify({
    processStartMs: began,
    importMs: imported - began,
    openMs: opened - imported,
    firstSearchMs: searched - opened,
    totalMs: searched - began,
    cpuMs: (cpuAfterFirstSearch.user + cpuAfterFirstSearch.system) / 1000,
    cpuUserMs: cpuAfterFirstSearch.user / 1000,
    cpuSystemMs: cpuAfterFirstSearch.system / 1000,
    mainThreadCpuMs,
    closeMs: closed - closing,
    rssAfterOpenBytes,
    rssAfterFirstSearchBytes,
    rssBytes,
    rssAfter1000Bytes,
    residentAfter50: split,
    heapUsedBytes: usage?.heapUsed ?? null,
    arrayBuffersBytes: usage?.arrayBuffers ?? null,
  }),
);
