import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteStore } from './sqlite-store.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const adapterRoot = join(here, '..', '..');
const coreSource = join(adapterRoot, '..', 'core', 'src', 'index.ts');
// Inside the package's node_modules, so the bundle's externals (better-sqlite3, kysely,
// sqlite-vec) resolve exactly as they do for the package itself.
const bundleDirectory = join(adapterRoot, 'node_modules', '.cache', `engram-sqlite-test-${process.pid}`);
const workers = 3;
const perWorker = 400;

interface Summary {
  items: number;
  created: number;
  duplicate: number;
  updated: number;
  accesses: number;
  searches: number;
}

describe('several processes sharing one SQLite file', () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-processes-'));

  beforeAll(async () => {
    // The children run plain Node, so they need JavaScript: bundle the adapter with core's
    // sources inlined (core may not be built), leaving the native drivers external.
    await build({
      entry: { sqlite: join(here, 'index.ts'), core: coreSource },
      outDir: bundleDirectory,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      dts: false,
      sourcemap: false,
      clean: true,
      silent: true,
      config: false,
      external: ['better-sqlite3', 'kysely', 'sqlite-vec'],
      noExternal: ['@engram/core'],
      esbuildOptions(options) {
        options.alias = { '@engram/core': coreSource };
      },
    });
  }, 120_000);

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(bundleDirectory, { recursive: true, force: true });
  });

  it(`${workers} processes write, update, count accesses and search concurrently without losing anything`, async () => {
    // A brand-new file: the processes also race to migrate it and to create the vector table.
    const path = join(root, 'nested', 'shared.db');
    const child = join(here, 'sqlite-multi-process.child.mjs');
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_, worker) =>
        run(process.execPath, [child, bundleDirectory, path, String(worker), String(perWorker), String(worker + 1)], {
          timeout: 120_000,
        }),
      ),
    );
    const summaries = outputs.map((output) => JSON.parse(output.stdout) as Summary);
    const total = (field: keyof Summary) => summaries.reduce((sum, summary) => sum + summary[field], 0);

    const db = new Database(path, { readonly: true });
    sqliteVec.load(db);
    try {
      const scalar = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      // Every process's own records arrived: nothing lost, nothing doubled.
      for (let worker = 0; worker < workers; worker++) {
        expect(scalar(`SELECT count(*) AS n FROM memories WHERE content LIKE 'worker ${worker} memory %'`)).toBe(perWorker);
      }
      // Contended content and keys resolved to exactly one live record each.
      const perContent = db
        .prepare("SELECT count(*) AS n FROM memories WHERE content LIKE 'shared content %' GROUP BY content")
        .all() as Array<{ n: number }>;
      expect(perContent.length).toBeGreaterThan(0);
      expect(perContent.every((row) => row.n === 1)).toBe(true);
      const perKey = db.prepare('SELECT count(*) AS n FROM memories WHERE key IS NOT NULL GROUP BY key').all() as Array<{ n: number }>;
      expect(perKey.length).toBe(5);
      expect(perKey.every((row) => row.n === 1)).toBe(true);
      // What the processes saw agrees with what is stored.
      const rows = scalar('SELECT count(*) AS n FROM memories');
      expect(total('created')).toBe(rows);
      expect(total('created') + total('duplicate') + total('updated')).toBe(total('items'));
      expect(scalar('SELECT count(*) AS n FROM memory_embeddings')).toBe(rows);
      // Counts written with the rows plus those recorded since, in \`memory_access\` (migration 0013).
      expect(scalar('SELECT (SELECT sum(access_count) FROM memories) + (SELECT coalesce(sum(count), 0) FROM memory_access) AS n')).toBe(
        total('accesses'),
      );
      expect(scalar('SELECT count(*) AS n FROM memory_history')).toBe(total('created') + total('updated'));
    } finally {
      db.close();
    }
    // A new connection's lexical index holds every memory the processes wrote.
    const check = sqliteStore({ path });
    expect(await check.lexicalSearch?.('zebra', {}, 10_000)).toHaveLength(workers * perWorker);
    await check.close();
  }, 180_000);
});
