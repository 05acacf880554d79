import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Memory as CoreMemory } from '@engram/core';
import { type ServerHandle, serve, tenantMemoryFactory } from '@engram/rest';
import { hashEmbedder, Memory } from 'engram';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { expectOk, requestJson } from '../packages/rest/src/testing/http.js';
import { usePostgres } from './support/postgres.js';

/**
 * Erasure travels (docs/sync.md "Erasure"): `forget` on a replica erases on the server and on every
 * other replica, `forget` on the server reaches every replica, and no pull or push brings an erased
 * memory back. SQLite replicas (files: the tests grep them for the erased text) against a server on
 * SQLite and one on Postgres (a throwaway cluster), over real sockets.
 */
const postgres = usePostgres();
const directory = mkdtempSync(join(tmpdir(), 'engram-sync-erasure-'));
const keys = { team_a: 'sync-erasure-key-a-0123456789', team_b: 'sync-erasure-key-b-0123456789' };
const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close().catch(() => {});
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

type Backend = { name: string; skip: string | undefined; store: () => Parameters<typeof tenantMemoryFactory>[0]['store'] };

const backends: Backend[] = [
  { name: 'SQLite', skip: undefined, store: () => ({ kind: 'sqlite', path: join(directory, `server-${randomUUID()}.db`) }) },
  { name: 'Postgres', skip: postgres.skip, store: () => ({ kind: 'postgres', connectionString: postgres.url }) },
];

async function startServer(backend: Backend): Promise<ServerHandle> {
  const server = await serve({
    memory: tenantMemoryFactory({ store: backend.store(), embedder: 'hash' }),
    auth: { keys },
    port: 0,
    rateLimit: false,
    log: () => {},
  });
  opened.push(server);
  return server;
}

interface Link {
  offline: boolean;
  /** Answers the next pull with this body instead of asking the server (a stale page). */
  replay: string | undefined;
  /** The last pull's body that had changes in it. */
  lastPull: string | undefined;
}

function replica(url: string, options: { key?: string; name?: string } = {}): { memory: Memory; path: string; link: Link } {
  const path = join(directory, `${options.name ?? 'replica'}-${randomUUID()}.db`);
  const link: Link = { offline: false, replay: undefined, lastPull: undefined };
  const through = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (link.offline) throw new TypeError('fetch failed');
    const isPull = String(input).includes('/api/sync/changes');
    if (isPull && link.replay !== undefined) {
      const body = link.replay;
      link.replay = undefined;
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    }
    const response = await fetch(input, init);
    if (!isPull) return response;
    const text = await response.text();
    if (response.ok && (JSON.parse(text) as { changes: unknown[] }).changes.length > 0) link.lastPull = text;
    return new Response(text, { status: response.status, headers: response.headers });
  };
  const memory = new Memory({
    path,
    embedder: hashEmbedder(),
    logger: false,
    sync: { url, apiKey: options.key ?? keys.team_a, interval: '1h', pushDelayMs: false, fetch: through as typeof fetch },
  });
  opened.push(memory);
  return { memory, path, link };
}

/** Files of a SQLite store (database, WAL, snapshots) that still hold `text`. */
function filesHolding(path: string, text: string): string[] {
  const base = path.split('/').at(-1) as string;
  const needle = Buffer.from(text);
  return readdirSync(directory)
    .filter((name) => name.startsWith(base))
    .filter((name) => readFileSync(join(directory, name)).includes(needle));
}

/** Nothing of memory `id` is left in `memory`: no record in any state, no history, no search hit. */
async function expectErased(memory: CoreMemory, id: string, text: string): Promise<void> {
  expect(await memory.get(id)).toBeNull();
  const all = await memory.list({ limit: 1000, includeSuperseded: true, includeDeleted: true });
  expect(all.items.map((record) => record.id)).not.toContain(id);
  expect(await memory.history(id)).toEqual([]);
  const hits = await memory.search(text, { limit: 10 });
  expect(hits.map((hit) => hit.memory.id)).not.toContain(id);
}

for (const backend of backends) {
  const suite = backend.skip ? describe.skip : describe;
  suite(`erasure over sync, server on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    it("a replica's forget erases on the server and on the other replica: the text leaves their files", async () => {
      const server = await startServer(backend);
      const central = await server.app.engram.tenants.get('team_a');
      const one = replica(server.url, { name: 'one' });
      const two = replica(server.url, { name: 'two' });
      const secret = `Patient ${randomUUID()} was diagnosed with condition zeta-seven`;
      const kept = (await one.memory.add({ content: 'The office plants need water on Fridays' })).memory;
      const erased = (await one.memory.add({ content: secret, tags: ['health'] })).memory;
      await one.memory.link(erased.id, kept.id, 'related');
      await one.memory.update(erased.id, { tags: ['health', 'private'] });
      await one.memory.sync.now();
      await two.memory.sync.now();
      expect((await two.memory.get(erased.id))?.content).toBe(secret);
      expect((await central.get(erased.id))?.content).toBe(secret);

      expect((await one.memory.forget({ ids: [erased.id] })).forgotten).toBe(1);
      expect((await one.memory.sync.status()).pending).toBe(1); // the erasure waits for the next round
      await one.memory.sync.now();
      expect((await one.memory.sync.status()).pending).toBe(0);
      await expectErased(central, erased.id, secret);
      await two.memory.sync.now();
      await expectErased(two.memory, erased.id, secret);
      expect((await two.memory.get(kept.id))?.content).toBe(kept.content);
      expect(await two.memory.relations(kept.id)).toEqual([]);
      // Nothing pulled is pushed back, and the origin's next round moves nothing.
      expect((await two.memory.sync.now()).pushed).toBe(0);
      expect(await one.memory.sync.now()).toEqual({ pushed: 0, pulled: 0 });

      await one.memory.close();
      await two.memory.close();
      expect(filesHolding(one.path, 'zeta-seven')).toEqual([]);
      expect(filesHolding(two.path, 'zeta-seven')).toEqual([]);
      if (backend.name === 'SQLite') {
        const tenantFiles = readdirSync(directory, { recursive: true }).map(String);
        const holding = tenantFiles.filter((name) => name.includes('team_a') && readFileSync(join(directory, name)).includes('zeta-seven'));
        expect(holding).toEqual([]);
      }
    });

    it("a forget on the server reaches every replica, and wins over a replica's pending update", async () => {
      const server = await startServer(backend);
      const central = await server.app.engram.tenants.get('team_a');
      const one = replica(server.url, { name: 'one' });
      const two = replica(server.url, { name: 'two' });
      const secret = `Account ${randomUUID()} belongs to a data subject who asked for erasure`;
      const erased = (await one.memory.add({ content: secret })).memory;
      await one.memory.sync.now();
      await two.memory.sync.now();
      // Two changes it while the server erases it: the erasure wins, the update goes nowhere.
      await two.memory.update(erased.id, { content: `${secret} (edited offline)` });
      expect((await two.memory.sync.status()).pending).toBe(1);
      expect((await central.forget({ ids: [erased.id] })).forgotten).toBe(1);
      await two.memory.sync.now();
      await one.memory.sync.now();
      await expectErased(two.memory, erased.id, 'data subject');
      await expectErased(one.memory, erased.id, 'data subject');
      await expectErased(central, erased.id, 'data subject');
      expect((await two.memory.sync.status()).pending).toBe(0);
      // A fresh replica never sees it.
      const three = replica(server.url, { name: 'three' });
      await three.memory.sync.now();
      await expectErased(three.memory, erased.id, 'data subject');
    });

    it('queues erasures offline, sends them on the next round, and no stale pull or push brings the memory back', async () => {
      const server = await startServer(backend);
      const central = await server.app.engram.tenants.get('team_a');
      const one = replica(server.url, { name: 'one' });
      const secret = `Home address of ${randomUUID()}: 12 Quiet Lane`;
      const erased = (await one.memory.add({ content: secret })).memory;
      await one.memory.sync.now();
      const stale = one.link.lastPull as string;
      expect(JSON.parse(stale).changes.map((change: { id?: string }) => change.id)).toContain(erased.id);

      one.link.offline = true;
      await one.memory.forget({ ids: [erased.id] });
      await expect(one.memory.sync.now()).rejects.toThrow('fetch failed');
      expect((await one.memory.sync.status()).pending).toBe(1);
      expect((await central.get(erased.id))?.content).toBe(secret);
      one.link.offline = false;
      await one.memory.sync.now();
      await expectErased(central, erased.id, 'Quiet Lane');

      // A pull answered with a page read before the erasure (a stale cache, a slow server): the
      // memory's old state in it does not come back.
      one.link.replay = stale;
      await one.memory.sync.now();
      await expectErased(one.memory, erased.id, 'Quiet Lane');
      // A replica resending the old create (a lost answer, a restored backup): ignored.
      const record = JSON.parse(stale).changes.find((change: { id?: string }) => change.id === erased.id).memory;
      const resent = await requestJson(server.url, 'post', '/api/sync/push', {
        key: keys.team_a,
        body: { replicaId: 'restored-from-backup', operations: [{ seq: 1, kind: 'create', record }] },
      });
      expect(expectOk(resent).results).toEqual([
        expect.objectContaining({ seq: 1, status: 'ignored', reason: expect.stringContaining('erased') }),
      ]);
      await expectErased(central, erased.id, 'Quiet Lane');
    });

    it('applies erasures before the operations after them: a new memory under the erased key is not merged into it', async () => {
      const server = await startServer(backend);
      const central = await server.app.engram.tenants.get('team_a');
      const one = replica(server.url, { name: 'one' });
      const old = (await one.memory.add({ content: 'Maria lives at 4 Old Street', key: 'maria-address' })).memory;
      await one.memory.sync.now();
      await one.memory.forget({ ids: [old.id] });
      const fresh = (await one.memory.add({ content: 'A new tenant moved in', key: 'maria-address' })).memory;
      expect(fresh.id).not.toBe(old.id);
      await one.memory.sync.now();
      await expectErased(central, old.id, 'Old Street');
      expect((await central.get(fresh.id))?.content).toBe('A new tenant moved in');
      expect(JSON.stringify(await central.history(fresh.id))).not.toContain('Old Street');
    });

    it('erases within the tenant boundary only: tenant B naming A’s ids erases nothing of A', async () => {
      const server = await startServer(backend);
      const centralA = await server.app.engram.tenants.get('team_a');
      const a = replica(server.url, { name: 'a' });
      const b = replica(server.url, { key: keys.team_b, name: 'b' });
      const target = (await a.memory.add({ content: 'Team A keeps this' })).memory;
      await a.memory.sync.now();
      // B's replica erases "its copy" of A's id (it has none) and pushes the erasure.
      await b.memory.forget({ ids: [target.id] });
      await b.memory.sync.now();
      // B crafts the push by hand, twice, and pulls with an erasure cursor.
      const push = await requestJson(server.url, 'post', '/api/sync/push', {
        key: keys.team_b,
        body: { replicaId: 'attacker', operations: [], erasures: [{ seq: 1, ids: [target.id] }] },
      });
      expect(push.status).toBe(200);
      expect(expectOk(push).erasures).toEqual([{ seq: 1, status: 'applied', erased: 0 }]);
      expect((await centralA.get(target.id))?.content).toBe('Team A keeps this');
      await a.memory.sync.now();
      expect((await a.memory.get(target.id))?.content).toBe('Team A keeps this');
      // And A's erasures are not listed to B (B's own list holds only what B asked for).
      const other = (await a.memory.add({ content: 'Team A erases this' })).memory;
      await a.memory.sync.now();
      await a.memory.forget({ ids: [other.id] });
      await a.memory.sync.now();
      const erasedFor = async (key: string) => {
        const pulled = await requestJson(server.url, 'get', '/api/sync/changes', {
          key,
          query: { since: '0' },
          headers: { 'x-engram-erased-since': '0' },
        });
        return expectOk(pulled).erased?.ids;
      };
      const erasedForB = await erasedFor(keys.team_b);
      expect(erasedForB).toContain(target.id);
      expect(erasedForB).not.toContain(other.id);
      const erasedForA = await erasedFor(keys.team_a);
      expect(erasedForA).toContain(other.id);
      expect(erasedForA).not.toContain(target.id);
      // A retried erasure push is a duplicate.
      const again = await requestJson(server.url, 'post', '/api/sync/push', {
        key: keys.team_b,
        body: { replicaId: 'attacker', operations: [], erasures: [{ seq: 1, ids: [target.id] }] },
      });
      expect(expectOk(again).erasures).toEqual([{ seq: 1, status: 'duplicate', erased: 0 }]);
    });
  });
}

describe('erasure sync and older peers', () => {
  it('an older replica (no erasure header, no erasures) keeps working; erased memories reach it as null (deleted)', async () => {
    const server = await startServer(backends[0] as Backend);
    const central = await server.app.engram.tenants.get('team_a');
    const one = replica(server.url, { name: 'one' });
    const erased = (await one.memory.add({ content: 'to be erased on the server' })).memory;
    await one.memory.sync.now();
    const before = await requestJson(server.url, 'get', '/api/sync/changes', { key: keys.team_a, query: { since: '0' } });
    expect(expectOk(before)).not.toHaveProperty('erased');
    await central.forget({ ids: [erased.id] });
    const push = await requestJson(server.url, 'post', '/api/sync/push', {
      key: keys.team_a,
      body: {
        replicaId: 'old-replica',
        operations: [{ seq: 1, kind: 'update', id: erased.id, fields: { content: 'edited by an old replica' } }],
      },
    });
    expect(push.status).toBe(200);
    expect(expectOk(push)).toEqual({ results: [{ seq: 1, status: 'ignored', memory: null, reason: 'unknown memory' }] });
    const after = await requestJson(server.url, 'get', '/api/sync/changes', { key: keys.team_a, query: { since: '0' } });
    expect(expectOk(after)).not.toHaveProperty('erased');
    expect(await central.get(erased.id)).toBeNull();
  });

  it('a replica talking to an older server pulls as before, and an erasure to push stops its queue with a clear error', async () => {
    // An Engram server from before erasure sync, as it answers on the wire: it ignores the
    // header, and its strict push schema refuses the `erasures` field.
    const http: Server = createServer((incoming, outgoing) => {
      let body = '';
      incoming.on('data', (chunk) => {
        body += chunk;
      });
      incoming.on('end', () => {
        outgoing.setHeader('content-type', 'application/json');
        if (incoming.url?.startsWith('/api/sync/changes')) {
          outgoing.end(JSON.stringify({ changes: [], cursor: 0, head: 0, more: false }));
          return;
        }
        const push = JSON.parse(body) as { operations: Array<{ seq: number }>; erasures?: unknown };
        if (push.erasures !== undefined) {
          outgoing.statusCode = 400;
          outgoing.end(JSON.stringify({ error: { code: 'VALIDATION', message: 'body: Unrecognized key: "erasures"' } }));
          return;
        }
        outgoing.end(JSON.stringify({ results: push.operations.map((operation) => ({ seq: operation.seq, status: 'applied' })) }));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    opened.push({ close: () => new Promise<void>((resolve) => http.close(() => resolve())) });
    const one = replica(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { name: 'old-server' });
    const memory = (await one.memory.add({ content: 'written before any erasure' })).memory;
    expect(await one.memory.sync.now()).toEqual({ pushed: 1, pulled: 0 });
    await one.memory.forget({ ids: [memory.id] });
    await one.memory.add({ content: 'written after the erasure' });
    const failure = await one.memory.sync.now().catch((error: Error) => error);
    expect(String(failure)).toContain('does not take erasures (an Engram server older than this replica): upgrade it');
    const status = await one.memory.sync.status();
    expect(status.pending).toBe(2);
    expect(status.lastError).toContain('upgrade it');
  });
});
