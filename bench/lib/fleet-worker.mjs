// One process of the fleet suite: opens the shared Postgres store, waits for the common start
// time, then for `seconds` runs a closed loop of 80 % `memory.search` (lexical: no pgvector on
// the server) and 20 % `memory.add` of a new memory; prints JSON counts, errors and latencies.
//   node bench/lib/fleet-worker.mjs <connectionString> <worker> <startAtEpochMs> <seconds>
import { postgresStore } from '@engram/adapters/postgres';
import { hashEmbedder, Memory } from 'engram';
import { memoryAt, queries, random } from './corpus.mjs';

const [connectionString, workerText, startText, secondsText] = process.argv.slice(2);
const worker = Number(workerText);
const memory = new Memory({
  store: postgresStore({ connectionString, vectors: false, poolSize: 2 }),
  embedder: hashEmbedder({ dimensions: 384 }),
  logger: false,
});
await memory.ready();
const questions = queries(500, 100 + worker);
const next = random(1000 + worker);
// Ready: wait for the common start.
process.stdout.write('ready\n');
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startText) - Date.now())));
const end = Date.now() + Number(secondsText) * 1000;
let searches = 0;
let adds = 0;
let added = 0;
const errors = [];
const searchMs = [];
const addMs = [];
while (Date.now() < end) {
  const begin = performance.now();
  try {
    if (next() < 0.8) {
      await memory.search(questions[searches % questions.length], {
        limit: 10,
        scope: next() < 0.5 ? { userId: `user-${searches % 20}` } : undefined,
      });
      searches += 1;
      searchMs.push(performance.now() - begin);
    } else {
      // Far above the preloaded corpus, distinct per worker: each add is a new memory.
      const input = memoryAt(10_000_000 + worker * 1_000_000 + added);
      added += 1;
      await memory.add(input);
      adds += 1;
      addMs.push(performance.now() - begin);
    }
  } catch (error) {
    errors.push(String(error?.message ?? error));
  }
}
await memory.close();
process.stdout.write(
  `${JSON.stringify({ worker, searches, adds, errors: errors.length, firstErrors: errors.slice(0, 3), searchMs, addMs })}\n`,
);
