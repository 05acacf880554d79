// An eraser process for tests/sync-erasure-processes.test.ts: plain Node over the built packages
// (run `npm run build` first). Serves sync pushes that carry erasures on a store shared with a
// sibling process (a SQLite file, or a Postgres database), as two servers behind one load balancer
// do: each push appends an entry to the store's erasure log. Waits for "go" on stdin so that both
// processes start together, then prints "done".
import { createInterface } from 'node:readline';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory } from '@engram/core';

const [kind, location, worker, countText] = process.argv.slice(2);
const count = Number(countText);
const store = kind === 'postgres' ? postgresStore({ connectionString: location, poolSize: 2 }) : sqliteStore({ path: location });
const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 32 }), logger: false });
await memory.ready();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;
for (let seq = 1; seq <= count; seq++) {
  await memory.sync.receive({ replicaId: `eraser-${worker}`, operations: [], erasures: [{ seq, ids: [`${worker}-${seq}`] }] });
}
await memory.close();
process.stdout.write('done\n');
process.exit(0);
