import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory, type MemoryRecord } from '@engram/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServer } from './support/engram-server.js';

/**
 * Sync with real processes: an `engram-server` process on a SQLite file, replicas on SQLite files
 * of their own in this process, talking over loopback HTTP. Needs the build (npm run build).
 */
const directory = mkdtempSync(join(tmpdir(), 'engram-sync-'));
const servers: ServerProcess[] = [];
const memories: Memory[] = [];
afterAll(async () => {
  for (const memory of memories) await memory.close().catch(() => {});
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

async function start(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServer(args, env, directory);
  servers.push(server);
  return server;
}

let replicaCount = 0;
function replica(url: string, options: { apiKey?: string; batchSize?: number } = {}): Memory {
  replicaCount += 1;
  const memory = new Memory({
    store: sqliteStore({ path: join(directory, `replica-${replicaCount}.db`) }),
    embedder: hashEmbedder(),
    logger: false,
    sync: { url, interval: '1h', pushDelayMs: false, timeoutMs: 10_000, ...options },
  });
  memories.push(memory);
  return memory;
}

/** A free loopback port (the server restarts on the same one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

type Snapshot = { memories: Array<Record<string, unknown>>; edges: string[] };

/** What must be identical everywhere: every live memory (superseded included) and every edge among them. */
async function snapshot(memory: Memory): Promise<Snapshot> {
  const items: MemoryRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await memory.list({ limit: 1000, includeSuperseded: true, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  const edges = new Set<string>();
  for (const record of items) {
    for (const edge of await memory.relations(record.id)) edges.add(`${edge.sourceId} ${edge.type} ${edge.targetId} ${edge.weight}`);
  }
  return {
    memories: items
      .map((record) => ({
        id: record.id,
        content: record.content,
        tags: record.tags,
        metadata: record.metadata,
        importance: record.importance,
        key: record.key,
        supersededBy: record.supersededBy,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
    edges: [...edges].sort(),
  };
}

/** Rounds until every replica has nothing pending (the server may still be starting). */
async function settle(replicas: Memory[]): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) for (const memory of replicas) await memory.sync.now();
  for (const memory of replicas) expect((await memory.sync.status()).pending).toBe(0);
}

describe('sync with a real server process', () => {
  it('loses and doubles nothing when the server is killed and restarted while two replicas write', async () => {
    const port = await freePort();
    const serverArgs = ['--port', String(port), '--path', join(directory, 'central.db')];
    let server = await start(serverArgs);
    const one = replica(server.url);
    const two = replica(server.url);
    const errors: Error[] = [];
    one.on('sync:error', ({ error }) => errors.push(error));
    const written = { one: [] as string[], two: [] as string[] };
    const write = async (memory: Memory, name: 'one' | 'two', index: number) => {
      const { memory: record } = await memory.add({ content: `${name} wrote note ${index}`, tags: [name] });
      written[name].push(record.id);
      if (index % 5 === 4) await memory.update(written[name][index - 2] as string, { tags: [name, 'edited'] });
      if (index % 7 === 6) await memory.link(record.id, written[name][index - 1] as string, 'follows');
    };
    for (let index = 0; index < 20; index++) {
      await Promise.all([write(one, 'one', index), write(two, 'two', index)]);
      if (index % 4 === 0) await Promise.all([one.sync.now(), two.sync.now()]);
    }
    // Killed mid-work: replicas keep writing; their rounds fail and their changes stay queued.
    server.child.kill('SIGKILL');
    await server.exited;
    for (let index = 20; index < 40; index++) await Promise.all([write(one, 'one', index), write(two, 'two', index)]);
    await expect(one.sync.now()).rejects.toThrow();
    expect((await one.sync.status()).pending).toBeGreaterThan(0);
    expect((await one.sync.status()).lastError).toMatch(/fetch failed|ECONNREFUSED/);
    expect(errors.length).toBeGreaterThan(0);
    await one.delete(written.one[3] as string);
    await two.delete(written.two[5] as string);

    server = await start(serverArgs);
    await settle([one, two]);
    const [first, second] = [await snapshot(one), await snapshot(two)];
    expect(second).toEqual(first);
    // Nothing lost, nothing doubled: exactly the 80 writes minus the 2 deletes, once each.
    expect(first.memories).toHaveLength(78);
    expect(new Set(first.memories.map((record) => record.content)).size).toBe(78);
    expect(first.memories.filter((record) => (record.tags as string[]).includes('edited'))).toHaveLength(16);
    // Five links per replica; the one to two's deleted note 5 is gone with it.
    expect(first.edges).toHaveLength(9);
    // The server holds the same (read through a third replica that only pulls).
    const observer = replica(server.url);
    await observer.sync.now();
    expect(await snapshot(observer)).toEqual(first);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('catches up a replica that was offline for 10,000 writes in one batch stream', async () => {
    const port = await freePort();
    const offline = replica(`http://127.0.0.1:${port}`, { batchSize: 1000 });
    for (let start = 0; start < 10_000; start += 1000) {
      await offline.addMany(Array.from({ length: 1000 }, (_, index) => ({ content: `offline write ${start + index}` })));
    }
    await expect(offline.sync.now()).rejects.toThrow();
    expect((await offline.sync.status()).pending).toBe(10_000);

    const server = await start(['--port', String(port), '--path', join(directory, 'catch-up.db'), '--rate-limit', '0']);
    const pushes: number[] = [];
    offline.on('sync:pushed', ({ operations }) => pushes.push(operations));
    const round = await offline.sync.now();
    expect(round.pushed).toBe(10_000);
    // One stream of batches: ten requests of 1,000 operations, nothing resent.
    expect(pushes).toEqual(Array.from({ length: 10 }, () => 1000));
    expect((await offline.sync.status()).pending).toBe(0);

    const fresh = replica(server.url, { batchSize: 1000 });
    const pulls: number[] = [];
    fresh.on('sync:pulled', ({ changes }) => pulls.push(changes));
    expect((await fresh.sync.now()).pulled).toBe(10_000);
    expect(pulls).toEqual(Array.from({ length: 10 }, () => 1000));
    expect(await fresh.count()).toBe(10_000);
    server.child.kill('SIGTERM');
    await server.exited;
  }, 300_000);

  it('converges three replicas after random operations, erasures included (property, fixed seed)', async () => {
    const tenants = Array.from({ length: 12 }, (_, index) => `prop_${index}`);
    const keys = Object.fromEntries(tenants.map((tenant) => [tenant, `key-${tenant}-0123456789abcdef`]));
    const server = await start(['--port', '0', '--path', join(directory, 'property.db'), '--rate-limit', '0'], {
      ENGRAM_API_KEYS: JSON.stringify(keys),
    });
    let run = 0;
    let erasures = 0;
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        replica: fc.nat(2),
        text: fc.constantFrom('alpha', 'beta', 'gamma', 'delta'),
        key: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }),
      }),
      fc.record({
        kind: fc.constant('update' as const),
        replica: fc.nat(2),
        target: fc.nat(20),
        text: fc.constantFrom('one', 'two', 'three'),
      }),
      fc.record({ kind: fc.constant('delete' as const), replica: fc.nat(2), target: fc.nat(20) }),
      fc.record({ kind: fc.constant('link' as const), replica: fc.nat(2), target: fc.nat(20), other: fc.nat(20) }),
      fc.record({ kind: fc.constant('unlink' as const), replica: fc.nat(2), target: fc.nat(20), other: fc.nat(20) }),
      fc.record({ kind: fc.constant('forget' as const), replica: fc.nat(2), target: fc.nat(20) }),
      fc.record({ kind: fc.constant('sync' as const), replica: fc.nat(2) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 30 }), async (operations) => {
        const tenant = tenants[run++ % tenants.length] as string;
        const replicas = [0, 1, 2].map(() => replica(server.url, { apiKey: keys[tenant] as string }));
        // Start from the tenant's current contents (earlier runs used it too).
        for (const memory of replicas) await memory.sync.now();
        const known: string[] = [];
        const erased: string[] = [];
        for (const [step, op] of operations.entries()) {
          const memory = replicas[op.replica] as Memory;
          const live = async (index: number) => {
            const id = known[index % Math.max(known.length, 1)];
            return id !== undefined && (await memory.get(id)) ? id : undefined;
          };
          if (op.kind === 'add') {
            known.push((await memory.add({ content: `${op.text} ${step}`, ...(op.key ? { key: op.key } : {}) })).memory.id);
          } else if (op.kind === 'update') {
            const id = await live(op.target);
            if (id) await memory.update(id, { content: `${op.text} at ${step}` });
          } else if (op.kind === 'delete') {
            const id = await live(op.target);
            if (id) await memory.delete(id);
          } else if (op.kind === 'forget') {
            const id = known[op.target % Math.max(known.length, 1)];
            if (id !== undefined && (await memory.forget({ ids: [id] })).forgotten > 0) erased.push(id);
            erasures += erased.length > 0 ? 1 : 0;
          } else if (op.kind === 'link' || op.kind === 'unlink') {
            const [a, b] = [await live(op.target), await live(op.other)];
            if (a && b && a !== b) {
              if (op.kind === 'link') await memory.link(a, b, 'related', { weight: 0.5 });
              else await memory.unlink(a, b);
            }
          } else {
            await memory.sync.now();
          }
        }
        await settle(replicas);
        for (const memory of replicas) await memory.sync.now();
        const [first, ...rest] = await Promise.all(replicas.map(snapshot));
        for (const other of rest) expect(other).toEqual(first);
        // An erasure on any replica reached every replica: no record of it in any state.
        for (const memory of replicas) {
          const all = await memory.list({ limit: 1000, includeSuperseded: true, includeDeleted: true });
          for (const id of erased) expect(all.items.map((record) => record.id)).not.toContain(id);
        }
        for (const memory of replicas) await memory.close();
      }),
      { seed: 19_019, numRuns: 12 },
    );
    expect(erasures).toBeGreaterThan(0); // the seed's runs erase something
    server.child.kill('SIGTERM');
    await server.exited;
  }, 300_000);
});
