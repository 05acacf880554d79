// A writer process for the backup and crash tests: plain Node over the built packages (run
// `npm run build` first). Adds memories to the SQLite file in `path` as fast as it can and
// prints each acknowledged one's number on stdout, one per line, after `add` resolved.
import { hashEmbedder } from '@engram/core';
import { Memory } from 'engram';

const [path, worker, countText] = process.argv.slice(2);
const count = Number(countText ?? Number.POSITIVE_INFINITY);
const memory = new Memory({ path, embedder: hashEmbedder({ dimensions: 32 }), logger: false });
await memory.ready();
process.stdout.write('ready\n');
for (let index = 0; index < count; index++) {
  await memory.add({ content: `worker ${worker} note ${index} about topic ${index % 17}`, tags: [`w${worker}`], metadata: { index } });
  process.stdout.write(`${index}\n`);
}
await memory.close();
