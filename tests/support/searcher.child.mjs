// A searching process for the access-statistics test: plain Node over the built packages (run
// `npm run build` first). Opens the SQLite file in `path`, runs `count` searches with an access
// flush interval of `intervalMs`, closes, and prints how many times each memory was returned.
import { hashEmbedder } from '@engram/core';
import { Memory } from 'engram';

const [path, countText, intervalText] = process.argv.slice(2);
const memory = new Memory({
  path,
  embedder: hashEmbedder({ dimensions: 32 }),
  logger: false,
  accessStatistics: { flushIntervalMs: Number(intervalText) },
});
const returned = {};
for (let index = 0; index < Number(countText); index++) {
  const hits = await memory.search(`topic ${index % 7} note`, { limit: 3 });
  for (const hit of hits) returned[hit.memory.id] = (returned[hit.memory.id] ?? 0) + 1;
  // A pause now and then, so a flush can land between searches as well as at close.
  if (index % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 80));
}
await memory.close();
process.stdout.write(JSON.stringify(returned));
