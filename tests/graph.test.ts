import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { ConflictError, hashEmbedder, inMemoryStore, Memory, type MemoryOptions, type MemoryStore, NotFoundError } from '@engram/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { usePglite } from './support/postgres.js';

// Postgres with pgvector, in-process (Debian ships no pgvector for a real server; the server
// path runs the store conformance suite in tests/postgres-store.test.ts).
const pglite = usePglite();

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const backends: Array<[string, () => MemoryStore]> = [
  ['memory', () => inMemoryStore()],
  [
    'sqlite',
    () => {
      const directory = mkdtempSync(join(tmpdir(), 'engram-graph-test-'));
      directories.push(directory);
      return sqliteStore({ path: join(directory, 'graph.db') });
    },
  ],
  ['postgres', () => postgresStore({ pglite: pglite.database, schema: pglite.nextSchema() })],
];

const DAY = 86_400_000;

describe.each(backends)('graph on %s', (_name, createStore) => {
  const open: Memory[] = [];
  afterEach(async () => {
    for (const memory of open.splice(0)) await memory.close();
  });
  function createMemory(options: Partial<MemoryOptions> = {}): Memory {
    const memory = new Memory({ store: createStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false, ...options });
    open.push(memory);
    return memory;
  }
  async function chain(memory: Memory, count: number, type = 'follows', prefix = 'chain') {
    const ids: string[] = [];
    for (let index = 0; index < count; index++) ids.push((await memory.add({ content: `node ${index} of the ${prefix}` })).memory.id);
    for (let index = 0; index + 1 < count; index++) await memory.link(ids[index] as string, ids[index + 1] as string, type);
    return ids;
  }

  describe('link and unlink', () => {
    it('creates typed edges; a pair can hold several types; relinking updates', async () => {
      const memory = createMemory();
      const added = vi.fn();
      memory.on('relation:added', added);
      const bug = (await memory.add({ content: 'login fails with 500', type: 'bug' })).memory;
      const fix = (await memory.add({ content: 'rotate the session secret', type: 'insight' })).memory;
      const edge = await memory.link(fix.id, bug.id, 'fixes', { weight: 0.8, metadata: { pr: 12 } });
      expect(edge).toMatchObject({
        sourceId: fix.id,
        targetId: bug.id,
        type: 'fixes',
        weight: 0.8,
        confidence: 1,
        inferred: false,
        metadata: { pr: 12 },
      });
      await memory.link(fix.id, bug.id, 'related');
      const updated = await memory.link(fix.id, bug.id, 'fixes', { weight: 0.3 });
      expect(updated.weight).toBe(0.3);
      expect(added.mock.calls.map(([event]) => event.created)).toEqual([true, true, false]);
      expect((await memory.relations(fix.id)).map((relation) => relation.type).sort()).toEqual(['fixes', 'related']);
      expect((await memory.relations(fix.id, { direction: 'in' })).map((relation) => relation.type)).toEqual(['related']);
      expect((await memory.relations(bug.id, { direction: 'in', types: ['fixes'] })).map((relation) => relation.sourceId)).toEqual([
        fix.id,
      ]);
    });

    it('rejects unknown types, self-loops and missing or deleted memories', async () => {
      const memory = createMemory();
      const a = (await memory.add({ content: 'a' })).memory;
      const b = (await memory.add({ content: 'b' })).memory;
      await expect(memory.link(a.id, b.id, 'likes')).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'type' });
      await expect(memory.link(a.id, a.id, 'related')).rejects.toMatchObject({ field: 'targetId' });
      await expect(memory.link(a.id, 'missing', 'related')).rejects.toBeInstanceOf(NotFoundError);
      await memory.delete(b.id);
      await expect(memory.link(a.id, b.id, 'related')).rejects.toBeInstanceOf(NotFoundError);
      await expect(memory.link(a.id, b.id, 'related', { weight: 3 })).rejects.toMatchObject({ field: 'options.weight' });
    });

    it('stores symmetric types once and finds them from either end', async () => {
      const memory = createMemory();
      const a = (await memory.add({ content: 'the API uses REST' })).memory;
      const b = (await memory.add({ content: 'the API uses GraphQL' })).memory;
      await memory.link(b.id, a.id, 'contradicts');
      await memory.link(a.id, b.id, 'contradicts');
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        for (const direction of ['out', 'in', 'both'] as const) {
          const relations = await memory.relations(from.id, { direction });
          expect(relations).toHaveLength(1);
          expect([relations[0]?.sourceId, relations[0]?.targetId]).toContain(to.id);
        }
      }
      expect(await memory.unlink(b.id, a.id, 'contradicts')).toBe(1);
      expect(await memory.relations(a.id)).toEqual([]);
    });

    it('unlinks one type or all types and emits', async () => {
      const memory = createMemory();
      const removed = vi.fn();
      memory.on('relation:removed', removed);
      const [a, b] = await chain(memory, 2, 'causes');
      await memory.link(a as string, b as string, 'related');
      await memory.link(b as string, a as string, 'supports');
      expect(await memory.unlink(a as string, b as string, 'causes')).toBe(1);
      await memory.link(a as string, b as string, 'causes');
      expect(await memory.unlink(a as string, b as string)).toBe(2);
      expect((await memory.relations(a as string)).map((relation) => relation.type)).toEqual(['supports']);
      expect(removed).toHaveBeenCalledTimes(3);
    });
  });

  describe('traversal', () => {
    it('neighbours: nearest first, each once, with direction, types, depth and limit', async () => {
      const memory = createMemory();
      const ids = await chain(memory, 5);
      const [n0, n1, n2, n3] = ids as [string, string, string, string, string];
      await memory.link(n0, n2, 'related');
      const around = await memory.neighbors(n0, { depth: 3 });
      expect(around.map((item) => [item.memory.id, item.distance])).toEqual([
        [n1, 1],
        [n2, 1],
        [n3, 2],
        [ids[4], 3],
      ]);
      expect((await memory.neighbors(n0, { depth: 3, types: ['follows'] })).map((item) => item.distance)).toEqual([1, 2, 3]);
      expect((await memory.neighbors(n3, { direction: 'in', types: ['follows'], depth: 2 })).map((item) => item.memory.id)).toEqual([
        n2,
        n1,
      ]);
      expect((await memory.neighbors(n3, { direction: 'out' })).map((item) => item.memory.id)).toEqual([ids[4]]);
      expect(await memory.neighbors(n0, { depth: 3, limit: 2 })).toHaveLength(2);
      expect((await memory.neighbors(n1))[0]?.via.type).toBe('follows');
    });

    it('never loops on cycles', async () => {
      const memory = createMemory();
      const ids = await chain(memory, 4, 'causes');
      await memory.link(ids[3] as string, ids[0] as string, 'causes');
      const reached = await memory.neighbors(ids[0] as string, { direction: 'out', depth: 10 });
      expect(reached.map((item) => item.distance)).toEqual([1, 2, 3]);
      expect(await memory.path(ids[1] as string, ids[0] as string, { direction: 'out' })).toHaveLength(4);
      expect(await memory.path(ids[1] as string, ids[0] as string)).toHaveLength(2);
    });

    it('skips deleted memories and, unless asked, superseded ones', async () => {
      const memory = createMemory();
      const [a, b, c] = (await chain(memory, 3)) as [string, string, string];
      await memory.delete(b);
      expect(await memory.neighbors(a, { depth: 3 })).toEqual([]);
      expect(await memory.path(a, c)).toBeNull();
      expect(await memory.relations(a)).toEqual([]);
      await expect(memory.neighbors(b)).rejects.toBeInstanceOf(NotFoundError);

      const [d, e, f] = (await chain(memory, 3, 'follows', 'second chain')) as [string, string, string];
      const winner = (await memory.add({ content: 'newer truth' })).memory.id;
      await memory.resolve(winner, e);
      expect((await memory.neighbors(d, { depth: 2 })).map((item) => item.memory.id)).toEqual([]);
      expect((await memory.neighbors(d, { depth: 2, types: ['follows'], includeSuperseded: true })).map((item) => item.memory.id)).toEqual([
        e,
        f,
      ]);
      expect((await memory.neighbors(winner)).map((item) => item.memory.id)).toEqual([]);
      expect((await memory.neighbors(winner, { includeSuperseded: true })).map((item) => item.memory.id)).toEqual([e]);
      expect(await memory.path(d, f)).toBeNull();
      expect((await memory.path(d, f, { includeSuperseded: true }))?.map((node) => node.id)).toEqual([d, e, f]);
    });

    it('routes a path around deleted and superseded memories, however many shortcuts they offer', async () => {
      const memory = createMemory();
      const [a, p, q, r, c] = (await chain(memory, 5, 'follows', 'live detour')) as [string, string, string, string, string];
      // Ten two-hop shortcuts from a to c through memories that cannot be entered: more than the
      // searches over raw edges try before checking every node.
      for (let index = 0; index < 10; index++) {
        const shortcut = (await memory.add({ content: `shortcut ${index}` })).memory.id;
        await memory.link(a, shortcut, 'follows');
        await memory.link(shortcut, c, 'follows');
        if (index % 2 === 0) await memory.delete(shortcut);
        else await memory.resolve((await memory.add({ content: `replaces shortcut ${index}` })).memory.id, shortcut);
      }
      expect((await memory.path(a, c))?.map((node) => node.id)).toEqual([a, p, q, r, c]);
      expect((await memory.path(a, c, { includeSuperseded: true }))?.length).toBe(3);
      const one = (await memory.add({ content: 'one live shortcut' })).memory.id;
      await memory.link(a, one, 'follows');
      await memory.link(one, c, 'follows');
      expect((await memory.path(a, c))?.map((node) => node.id)).toEqual([a, one, c]);
    });

    it('path follows links both ways by default, like neighbors (the docs/graph.md example)', async () => {
      const memory = createMemory();
      const scope = { userId: 'team-payments' };
      const bug = (await memory.add({ content: 'Webhook handler returns 502 under load', type: 'bug', scope })).memory;
      const fix = (await memory.add({ content: 'Raising the nginx proxy buffer to 16k fixed the 502s', type: 'insight', scope })).memory;
      const decision = (await memory.add({ content: 'All services use the shared nginx config', type: 'configuration', scope })).memory;
      await memory.link(fix.id, bug.id, 'fixes');
      await memory.link(fix.id, decision.id, 'supports');
      expect((await memory.neighbors(bug.id, { depth: 2 })).map((item) => item.memory.id)).toEqual([fix.id, decision.id]);
      expect((await memory.path(fix.id, decision.id))?.map((node) => node.id)).toEqual([fix.id, decision.id]);
      expect((await memory.path(bug.id, decision.id))?.map((node) => node.id)).toEqual([bug.id, fix.id, decision.id]);
      expect((await memory.path(decision.id, bug.id))?.map((node) => node.id)).toEqual([decision.id, fix.id, bug.id]);
      expect(await memory.path(bug.id, decision.id, { direction: 'out' })).toBeNull();
      expect((await memory.path(fix.id, decision.id, { direction: 'out' }))?.map((node) => node.id)).toEqual([fix.id, decision.id]);
    });

    it('finds the shortest path within maxDepth, following direction', async () => {
      const memory = createMemory();
      const ids = (await chain(memory, 7)) as string[];
      const path = await memory.path(ids[0] as string, ids[5] as string);
      expect(path?.map((node) => node.id)).toEqual(ids.slice(0, 6));
      expect(await memory.path(ids[0] as string, ids[6] as string)).toBeNull();
      expect((await memory.path(ids[0] as string, ids[6] as string, { maxDepth: 6 }))?.length).toBe(7);
      expect(await memory.path(ids[5] as string, ids[0] as string, { direction: 'out' })).toBeNull();
      expect((await memory.path(ids[5] as string, ids[0] as string, { direction: 'in' }))?.length).toBe(6);
      expect((await memory.path(ids[5] as string, ids[0] as string))?.length).toBe(6);
      await memory.link(ids[0] as string, ids[4] as string, 'related');
      expect((await memory.path(ids[0] as string, ids[5] as string))?.map((node) => node.id)).toEqual([ids[0], ids[4], ids[5]]);
      expect((await memory.path(ids[0] as string, ids[5] as string, { types: ['follows'] }))?.length).toBe(6);
      expect((await memory.path(ids[2] as string, ids[2] as string))?.length).toBe(1);
      await expect(memory.path(ids[0] as string, 'missing')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('returns a subgraph of nodes and the edges among them', async () => {
      const memory = createMemory();
      const ids = (await chain(memory, 5)) as string[];
      await memory.link(ids[1] as string, ids[3] as string, 'supports');
      const graph = await memory.subgraph(ids[2] as string, { radius: 1 });
      expect(graph.nodes.map((node) => node.id).sort()).toEqual([ids[1], ids[2], ids[3]].sort());
      expect(graph.edges.map((edge) => `${edge.sourceId}>${edge.targetId}`).sort()).toEqual(
        [`${ids[1]}>${ids[2]}`, `${ids[2]}>${ids[3]}`, `${ids[1]}>${ids[3]}`].sort(),
      );
      expect((await memory.subgraph(ids[2] as string, { radius: 5, maxNodes: 2 })).nodes).toHaveLength(2);
      expect(JSON.parse(JSON.stringify(graph)).nodes).toHaveLength(3);
    });
  });

  describe('resolve, history and time travel', () => {
    it('supersedes the loser, writes a contradicts edge once, hides it from search and list', async () => {
      const now = { value: Date.UTC(2026, 0, 10) };
      const memory = createMemory({ now: () => now.value });
      const superseded = vi.fn();
      memory.on('memory:superseded', superseded);
      const old = (await memory.add({ content: 'The team standup is at 9:00', createdAt: new Date(now.value - 5 * DAY) })).memory;
      const fresh = (await memory.add({ content: 'The team standup moved to 9:30' })).memory;
      now.value += DAY;
      const { loser } = await memory.resolve(fresh.id, old.id, { reason: 'announced in #general' });
      expect(loser).toMatchObject({ supersededBy: fresh.id });
      expect(loser.validTo?.getTime()).toBe(now.value);
      expect(superseded).toHaveBeenCalledWith(expect.objectContaining({ reason: 'announced in #general' }));
      expect((await memory.relations(fresh.id, { types: ['contradicts'] })).length).toBe(1);
      await memory.resolve(fresh.id, old.id);
      expect((await memory.relations(fresh.id, { types: ['contradicts'] })).length).toBe(1);

      expect((await memory.search('team standup')).map((hit) => hit.memory.id)).toEqual([fresh.id]);
      expect((await memory.search('team standup', { includeSuperseded: true })).map((hit) => hit.memory.id).sort()).toEqual(
        [fresh.id, old.id].sort(),
      );
      expect((await memory.list()).items.map((item) => item.id)).toEqual([fresh.id]);
      expect(await memory.get(old.id)).toMatchObject({ supersededBy: fresh.id });

      // As of before the supersession, both were current; before the fresh one, only the old.
      const before = new Date(now.value - DAY / 2);
      expect((await memory.search('team standup', { asOf: before })).map((hit) => hit.memory.id).sort()).toEqual([fresh.id, old.id].sort());
      expect((await memory.search('team standup', { asOf: new Date(now.value - 2 * DAY) })).map((hit) => hit.memory.id)).toEqual([old.id]);
      expect((await memory.search('team standup', { asOf: new Date(now.value + 1) })).map((hit) => hit.memory.id)).toEqual([fresh.id]);

      const third = (await memory.add({ content: 'The team standup is cancelled' })).memory;
      await expect(memory.resolve(third.id, old.id)).rejects.toBeInstanceOf(ConflictError);
      await expect(memory.resolve(old.id, third.id)).rejects.toBeInstanceOf(ConflictError);
      await expect(memory.resolve(third.id, third.id)).rejects.toMatchObject({ field: 'loserId' });
    });

    it('lists every change in history', async () => {
      const memory = createMemory();
      const a = (await memory.add({ content: 'version one', tags: ['x'] })).memory;
      const b = (await memory.add({ content: 'something newer' })).memory;
      await memory.update(a.id, { content: 'version two' });
      await memory.resolve(b.id, a.id, { reason: 'stale' });
      await memory.delete(a.id);
      const history = await memory.history(a.id);
      expect(history.map((entry) => entry.event)).toEqual(['created', 'updated', 'superseded', 'deleted']);
      expect(history[1]?.changes.content).toEqual({ from: 'version one', to: 'version two' });
      expect(history[2]?.reason).toBe('stale');
      // Unknown and erased (`forget`) ids look the same: no history, no error.
      expect(await memory.history('missing')).toEqual([]);
    });
  });

  describe('search expansion', () => {
    it('adds neighbours of the strongest hits with a decayed score and explains them', async () => {
      const memory = createMemory();
      const scope = { userId: 'u1' };
      const bug = (await memory.add({ content: 'payments webhook returns 502 under load', type: 'bug', scope })).memory;
      const fix = (await memory.add({ content: 'raise the nginx proxy buffer size', type: 'insight', scope })).memory;
      const other = (await memory.add({ content: 'unrelated holiday calendar', scope: { userId: 'someone' } })).memory;
      await memory.link(fix.id, bug.id, 'fixes', { weight: 0.8 });
      await memory.link(other.id, bug.id, 'related');
      const plain = await memory.search('payments webhook 502', { mode: 'lexical' });
      expect(plain.map((hit) => hit.memory.id)).toEqual([bug.id]);
      const expanded = await memory.search('payments webhook 502', { mode: 'lexical', expand: { depth: 1 }, explain: true });
      const ids = expanded.map((hit) => hit.memory.id);
      expect(ids[0]).toBe(bug.id);
      expect(ids).toContain(fix.id);
      expect(ids).toContain(other.id);
      const fixHit = expanded.find((hit) => hit.memory.id === fix.id);
      expect(fixHit?.score).toBeCloseTo((expanded[0]?.score ?? 0) * 0.5 * 0.8, 10);
      expect(fixHit?.explanation?.expansion).toMatchObject({ seedId: bug.id, distance: 1, via: { type: 'fixes' } });
      // Expansion keeps the filter: a scoped search never pulls in another scope's memory.
      const scoped = await memory.search('payments webhook 502', { mode: 'lexical', expand: { depth: 2 }, scope });
      expect(scoped.map((hit) => hit.memory.id).sort()).toEqual([bug.id, fix.id].sort());
      const typed = await memory.search('payments webhook 502', { mode: 'lexical', expand: { depth: 2, types: ['related'] } });
      expect(typed.map((hit) => hit.memory.id).sort()).toEqual([bug.id, other.id].sort());
      await expect(memory.search('x', { expand: { types: ['nope'] } })).rejects.toMatchObject({ field: 'options.expand.types.0' });
    });
  });

  describe('link suggestions', () => {
    it('suggests typed links with reasons and writes nothing', async () => {
      const memory = createMemory();
      const bug = (await memory.add({ content: 'redis connection timeout during deploy', type: 'bug', tags: ['redis', 'deploy'] })).memory;
      const fix = (
        await memory.add({ content: 'increase redis connection timeout to 5 seconds during deploy', type: 'insight', tags: ['redis'] })
      ).memory;
      await memory.add({ content: 'the cafeteria serves soup on fridays', type: 'observation' });
      const suggestions = await memory.suggestLinks(fix.id, { limit: 3 });
      expect(suggestions[0]).toMatchObject({ sourceId: fix.id, targetId: bug.id, type: 'fixes' });
      expect(suggestions[0]?.reasons.join(' ')).toMatch(/learning → error suggests fixes/);
      expect(suggestions[0]?.reasons.join(' ')).toMatch(/shares tags: redis/);
      expect(suggestions[0]?.confidence).toBeGreaterThan(suggestions.at(-1)?.confidence ?? 1);
      expect(await memory.relations(fix.id)).toEqual([]);
      await memory.link(fix.id, bug.id, 'fixes');
      expect((await memory.suggestLinks(fix.id)).map((suggestion) => suggestion.memory.id)).not.toContain(bug.id);
    });

    it('auto-links above the threshold when asked, marked as inferred', async () => {
      const memory = createMemory({ autoLink: { threshold: 0.5 } });
      const bug = (await memory.add({ content: 'kafka consumer lag spikes after rebalance', type: 'bug', tags: ['kafka'] })).memory;
      const fix = (
        await memory.add({
          content: 'kafka consumer lag spikes after rebalance fixed by static membership',
          type: 'insight',
          tags: ['kafka'],
        })
      ).memory;
      const relations = await memory.relations(fix.id);
      expect(relations).toHaveLength(1);
      expect(relations[0]).toMatchObject({ sourceId: fix.id, targetId: bug.id, type: 'fixes', inferred: true });
      const quiet = createMemory();
      await quiet.add({ content: 'kafka consumer lag spikes after rebalance', type: 'bug' });
      const second = (await quiet.add({ content: 'kafka consumer lag spikes after rebalance fixed', type: 'insight' })).memory;
      expect(await quiet.relations(second.id)).toEqual([]);
    });
  });
});
