// A child of the REST suite's two-process figure: opens its own copy of the 10k-memory file, warms
// up for a second, then runs `memory.search` back to back for the given seconds and sends what it
// did and the CPU it took. Two of these at once, against one alone, shows how the machine shares
// its cores between two busy processes — with no HTTP, no shared file, no load generator.
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { queries } from './corpus.mjs';

const [path, secondsText, seedText] = process.argv.slice(2);
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
const searchQueries = queries(500, Number(seedText));
let next = 0;
async function loop(seconds) {
  let done = 0;
  const begin = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - begin < seconds * 1000) {
    await memory.search(searchQueries[next++ % searchQueries.length], { limit: 10 });
    done += 1;
  }
  const used = process.cpuUsage(cpu);
  return { done, seconds: (performance.now() - begin) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}
await loop(1);
process.send?.(await loop(Number(secondsText)), () => {
  void memory.close().then(() => process.exit(0));
});
