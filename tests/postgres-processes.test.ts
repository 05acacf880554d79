import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

/**
 * Several Node processes share one Postgres database through `postgresStore`, each with its own
 * pool, the way a fleet of agents does: concurrent first starts (migrations), concurrent writes
 * (nothing lost, duplicates and keys resolved across processes), and reads of each other's writes.
 */
const postgres = usePostgres();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the repository, so the bundle's external imports (pg, kysely) resolve from node_modules.
const workDirectory = join(root, 'node_modules', '.cache', `engram-postgres-processes-${process.pid}`);
const workerPath = join(workDirectory, 'worker.mjs');

// The worker: open Memory on the shared database, then write or read as told (argument: JSON).
const workerSource = `
import { Memory, hashEmbedder } from '@engram/core';
import { postgresStore } from '@engram/adapters/postgres';

const task = JSON.parse(process.argv[2]);
const store = postgresStore({ connectionString: task.url, schema: task.schema, poolSize: 4 });
const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 32 }), logger: false });
const scope = { userId: 'fleet' };
const statuses = { created: 0, duplicate: 0, updated: 0 };
const ids = [];
const contents = {};
const count = (result) => { statuses[result.status] += 1; ids.push(result.memory.id); contents[result.memory.content] = result.memory.id; };

if (task.mode === 'write') {
  const jobs = [];
  for (let index = 0; index < task.unique; index++) jobs.push(() => memory.add({ content: 'worker ' + task.worker + ' note ' + index, scope }));
  for (let index = 0; index < task.shared; index++) jobs.push(() => memory.add({ content: 'shared note ' + index, scope }));
  for (let index = 0; index < task.keyed; index++) jobs.push(() => memory.add({ content: 'preference from worker ' + task.worker + ' #' + index, key: 'preference', scope }));
  jobs.push(() => memory.addMany(Array.from({ length: 20 }, (_, index) => ({ content: 'batch ' + task.worker + ' item ' + index, scope }))).then((results) => results.forEach(count)));
  // Several writes in flight at once inside each process, too.
  for (let start = 0; start < jobs.length; start += 8) {
    const results = await Promise.all(jobs.slice(start, start + 8).map((job) => job()));
    for (const result of results) if (result && result.status) count(result);
  }
  console.log(JSON.stringify({ statuses, ids, contents }));
} else {
  const found = await memory.get(task.id);
  const hits = await memory.search(task.query, { scope });
  console.log(JSON.stringify({ content: found?.content ?? null, hits: hits.map((hit) => hit.memory.id), total: await memory.count({ scope }) }));
}
await memory.close();
`;

interface WriteSummary {
  statuses: { created: number; duplicate: number; updated: number };
  ids: string[];
  /** content → id of every memory the worker was given back. */
  contents: Record<string, string>;
}

function runWorker<T>(task: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [workerPath, JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as T);
      } catch (error) {
        reject(new Error(`worker printed no result: ${stdout}\n${stderr}`, { cause: error }));
      }
    });
  });
}

const suite = postgres.skip ? describe.skip : describe;

suite(`several processes on one Postgres${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  beforeAll(async () => {
    mkdirSync(workDirectory, { recursive: true });
    const source = (path: string) => join(root, path);
    await build({
      stdin: { contents: workerSource, resolveDir: root, loader: 'ts', sourcefile: 'worker.ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: workerPath,
      external: ['pg', 'kysely'],
      alias: {
        '@engram/core': source('packages/core/src/index.ts'),
        '@engram/adapters/postgres': source('packages/adapters/src/postgres/index.ts'),
      },
      logLevel: 'silent',
    });
  }, 60_000);
  afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

  it('lose nothing when four processes start on a new schema and write at once', async () => {
    const schema = postgres.nextSchema();
    const workers = 4;
    const task = { mode: 'write', url: postgres.url, schema, unique: 60, shared: 25, keyed: 5 };
    const summaries = await Promise.all(Array.from({ length: workers }, (_, worker) => runWorker<WriteSummary>({ ...task, worker })));

    const memories = `"${schema}".memories`;
    const live = await postgres.pool.query(`SELECT id, content, key FROM ${memories} WHERE deleted_at IS NULL`);
    const stored = new Set(live.rows.map((row) => row.id as string));
    // Every id any process was given exists: nothing was lost or silently replaced.
    for (const summary of summaries) for (const id of summary.ids) expect(stored.has(id)).toBe(true);
    // Unique and batch notes once each; each shared note exactly once; one live keyed record.
    expect(live.rows.length).toBe(workers * (task.unique + 20) + task.shared + 1);
    const shared = live.rows.filter((row) => String(row.content).startsWith('shared note'));
    expect(shared.length).toBe(task.shared);
    expect(live.rows.filter((row) => row.key === 'preference')).toHaveLength(1);
    const created = summaries.reduce((total, summary) => total + summary.statuses.created, 0);
    expect(created).toBe(live.rows.length);
    const duplicates = summaries.reduce((total, summary) => total + summary.statuses.duplicate, 0);
    expect(duplicates).toBe((workers - 1) * task.shared);
    // Every creation and keyed update left exactly one history entry.
    const history = await postgres.pool.query(`SELECT event, count(*)::int AS total FROM "${schema}".memory_history GROUP BY event`);
    const events = Object.fromEntries(history.rows.map((row) => [row.event, row.total]));
    const updated = summaries.reduce((total, summary) => total + summary.statuses.updated, 0);
    expect(events).toEqual({ created: live.rows.length, ...(updated > 0 ? { updated } : {}) });
    expect(updated + 1).toBe(workers * task.keyed);
  }, 120_000);

  it('a second process sees what the first one wrote', async () => {
    const schema = postgres.nextSchema();
    const first = await runWorker<WriteSummary>({
      mode: 'write',
      url: postgres.url,
      schema,
      worker: 'first',
      unique: 3,
      shared: 0,
      keyed: 0,
    });
    const id = first.contents['worker first note 0'] as string;
    expect(id).toBeDefined();
    const second = await runWorker<{ content: string | null; hits: string[]; total: number }>({
      mode: 'read',
      url: postgres.url,
      schema,
      id,
      query: 'worker first note',
    });
    expect(second.content).toBe('worker first note 0');
    expect(second.hits).toContain(id);
    expect(second.total).toBe(3 + 20);
  }, 60_000);
});
