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
          .prepare("SELECT count(*) AS created, count(DISTINCT memory_id) AS memories FROM memory_history WHERE event = 'created'")
          .get() as {
          created: number;
          memories: number;
        };
      } finally {
        database.close();
      }
    };
    let pushes = 0;
    let cut = false;
    const partitioningFetch: typeof fetch = async (input, init) => {
      const response = globalThis.fetch(input, init);
      response.catch(() => {});
      if (String(input).endsWith('/api/sync/push') && ++pushes === 2) {
        // The second batch is on the wire: once the server has applied part of it, pull the plug.
        const before = serverLog().created;
        const deadline = Date.now() + 20_000;
        while (serverLog().created <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        ip('link', 'set', hostSide, 'down');
        cut = true;
      }
      return response;
    };
    // The replica's writes, made offline (no sync yet): 1,200 memories waiting in its change log.
    const replicaFile = join(directory, 'replica.db');
    const offline = new Memory({ store: sqliteStore({ path: replicaFile }), embedder: hashEmbedder(), logger: false });
    const total = 1200;
    for (let start = 0; start < total; start += 400) {
      await offline.addMany(Array.from({ length: 400 }, (_, index) => ({ content: `partition write ${start + index}` })));
    }
    await offline.close();

    const replica = new Memory({
      store: sqliteStore({ path: replicaFile }),
      embedder: hashEmbedder(),
      logger: false,
      sync: { url, apiKey: key, interval: '1h', pushDelayMs: false, batchSize: 400, timeoutMs: 4000, fetch: partitioningFetch },
    });
    const pushed: Array<{ applied: number; duplicate: number }> = [];
    replica.on('sync:pushed', (event) => pushed.push(event));
    const failed = new Promise<Error>((resolve) => replica.once('sync:error', ({ error }) => resolve(error)));
    // Opening starts the first round in the background: batch one lands, batch two is cut.
    await replica.ready();
    expect((await failed).message).toMatch(/abort|timeout/i);
    expect(cut).toBe(true);
    expect(pushed).toEqual([{ operations: 400, applied: 400, duplicate: 0, merged: 0, ignored: 0 }]);
    const status = await replica.sync.status();
    expect(status.pending).toBe(800);
    expect(status.lastError).not.toBeNull();
    const during = serverLog().created;
    expect(during).toBeGreaterThan(400);
    expect(during).toBeLessThanOrEqual(800);

    ip('link', 'set', hostSide, 'up');
    const round = await replica.sync.now();
    expect(round.pushed).toBe(800);
    // The batch cut mid-way is resent whole: what the server had applied answers 'duplicate'.
    expect(pushed[1]).toMatchObject({ operations: 400, duplicate: during - 400, applied: 400 - (during - 400) });
    expect(pushed[2]).toMatchObject({ operations: 400, applied: 400, duplicate: 0 });
    expect(await replica.sync.status()).toMatchObject({ pending: 0, lastError: null });
    // Exactly once: one 'created' per memory on the server, every write there.
    expect(serverLog()).toEqual({ created: total, memories: total });
    await replica.close();
    server?.kill('SIGTERM');
  }, 120_000);
});
