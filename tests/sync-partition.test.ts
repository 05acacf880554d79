import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A network partition in the middle of a push: the server runs in a network namespace of its own,
 * joined to this one by a veth pair on private addresses; the link goes down while the server is
 * applying a batch (so its answer is lost), and comes back. The push must then resume with every
 * operation applied exactly once. Needs root (CAP_NET_ADMIN) for `ip netns`; skipped otherwise.
 */
const bin = fileURLToPath(new URL('../packages/rest/bin/engram-server.js', import.meta.url));
const suffix = String(process.pid % 100_000);
const namespace = `engram-sync-${suffix}`;
const hostSide = `egs${suffix}h`;
const serverSide = `egs${suffix}s`;
const octet = 16 + (process.pid % 200);
const hostAddress = `10.231.${octet}.1`;
const serverAddress = `10.231.${octet}.2`;
const directory = mkdtempSync(join(tmpdir(), 'engram-partition-'));
const key = 'partition-key-0123456789abcdef';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

function namespaceSupport(): string | undefined {
  try {
    ip('netns', 'add', namespace);
    return undefined;
  } catch (error) {
    return `ip netns add is not permitted here (${
      String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .split('\n')[0]
    }); the test needs root or CAP_NET_ADMIN`;
  }
}

const skip = namespaceSupport();
let server: ReturnType<typeof spawn> | undefined;

beforeAll(() => {
  if (skip) return;
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', serverSide);
  ip('link', 'set', serverSide, 'netns', namespace);
  ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${serverAddress}/30`, 'dev', serverSide);
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', serverSide, 'up');
  ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
});

afterAll(() => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  if (!skip) {
    try {
      ip('link', 'del', hostSide);
    } catch {
      // gone with the namespace
    }
    ip('netns', 'del', namespace);
  }
  rmSync(directory, { recursive: true, force: true });
});

function startInNamespace(path: string): Promise<string> {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, bin, '--host', serverAddress, '--port', '0', '--path', path], {
    env: {
      ...process.env,
      ENGRAM_EMBEDDER: 'hash',
      ENGRAM_API_KEYS: JSON.stringify({ partition: key }),
      ENGRAM_PATH: '',
      ENGRAM_PG_URL: '',
      ENGRAM_KEYS_FILE: '',
    },
  });
  server = child;
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /serving .* at (http:\/\/[\d.:]+)/.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    child.on('close', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
}

describe.skipIf(skip !== undefined)(`sync across a network partition${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('resumes a push cut mid-batch exactly once when the link returns', async () => {
    const url = await startInNamespace(join(directory, 'server.db'));
    // With keys, each tenant has a file of its own beside the base one.
    const serverFile = join(directory, 'server.tenants', 'partition.db');
    const serverLog = () => {
      const database = new Database(serverFile, { readonly: true, fileMustExist: true });
      try {
        return database
          .prepare(
            "SELECT count(*) FILTER (WHERE event = 'created') AS created, count(*) FILTER (WHERE event = 'updated') AS updated, count(DISTINCT memory_id) AS memories FROM memory_history",
          )
          .get() as {
          created: number;
          updated: number;
          memories: number;
        };
      } finally {
        database.close();
      }
    };
    let armed = false;
    let cut = false;
    const partitioningFetch: typeof fetch = async (input, init) => {
      const response = globalThis.fetch(input, init);
      response.catch(() => {});
      if (armed && String(input).endsWith('/api/sync/push')) {
        armed = false;
        // The batch is on the wire: once the server has applied part of it, pull the plug.
        const before = serverLog().updated;
        const deadline = Date.now() + 20_000;
        while (serverLog().updated <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
        ip('link', 'set', hostSide, 'down');
        cut = true;
      }
      return response;
    };
    const replicaFile = join(directory, 'replica.db');
    const replica = new Memory({
      store: sqliteStore({ path: replicaFile }),
      embedder: hashEmbedder(),
      logger: false,
      sync: { url, apiKey: key, interval: '1h', pushDelayMs: false, batchSize: 400, timeoutMs: 4000, fetch: partitioningFetch },
    });
    const total = 400;
    const written = await replica.addMany(Array.from({ length: total }, (_, index) => ({ content: `partition write ${index}` })));
    await replica.sync.now();
    expect(serverLog()).toEqual({ created: total, updated: 0, memories: total });

    // Two batches of updates: tags, then importance. The server applies updates one by one (each
    // with its replica mark), so the cut lands in the middle of the first batch.
    for (const { memory } of written) await replica.update(memory.id, { tags: ['partitioned'] });
    for (const { memory } of written) await replica.update(memory.id, { importance: 0.9 });
    const pushed: Array<{ applied: number; duplicate: number }> = [];
    replica.on('sync:pushed', (event) => pushed.push(event));
    armed = true;
    // The answer never comes (the request times out) or the connection breaks: the round fails.
    await expect(replica.sync.now()).rejects.toThrow(/abort|timeout|fetch failed/i);
    expect(cut).toBe(true);
    expect(pushed).toEqual([]);
    const status = await replica.sync.status();
    expect(status.pending).toBe(800);
    expect(status.lastError).not.toBeNull();
    const during = serverLog().updated;
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThanOrEqual(400);

    ip('link', 'set', hostSide, 'up');
    const round = await replica.sync.now();
    expect(round.pushed).toBe(800);
    // The batch cut mid-way is resent whole: what the server had applied answers 'duplicate'.
    expect(pushed[0]).toEqual({ operations: 400, duplicate: during, applied: 400 - during, merged: 0, ignored: 0 });
    expect(pushed[1]).toEqual({ operations: 400, duplicate: 0, applied: 400, merged: 0, ignored: 0 });
    expect(await replica.sync.status()).toMatchObject({ pending: 0, lastError: null });
    // Exactly once: one 'created' and two 'updated' per memory on the server.
    expect(serverLog()).toEqual({ created: total, updated: 2 * total, memories: total });
    const database = new Database(serverFile, { readonly: true });
    expect(database.prepare('SELECT DISTINCT tags, importance FROM memories').all()).toEqual([
      { tags: '["partitioned"]', importance: 0.9 },
    ]);
    database.close();
    await replica.close();
    server?.kill('SIGTERM');
  }, 120_000);
});
