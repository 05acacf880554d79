import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import {
  type Embedder,
  EmbedderError,
  EmbedderMismatchError,
  EngramError,
  hashEmbedder,
  inMemoryStore,
  Memory,
  type MemoryOptions,
  type MemoryRecord,
  type MemoryStore,
  NotFoundError,
  ValidationError,
} from '@engram/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { usePglite } from './support/postgres.js';

// Postgres with pgvector, in-process (Debian ships no pgvector for a real server; the server
// path runs the store conformance suite in tests/postgres-store.test.ts).
const pglite = usePglite();

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-memory-test-'));
  directories.push(directory);
  return join(directory, 'memory.db');
}

const backends: Array<[string, () => MemoryStore]> = [
  ['memory', () => inMemoryStore()],
  ['sqlite', () => sqliteStore({ path: tempPath() })],
  ['postgres', () => postgresStore({ pglite: pglite.database, schema: pglite.nextSchema() })],
];

const DAY = 86_400_000;

describe.each(backends)('Memory on %s', (_name, createStore) => {
  const open: Memory[] = [];
  afterEach(async () => {
    for (const memory of open.splice(0)) await memory.close();
  });
  function createMemory(options: Partial<MemoryOptions> = {}): Memory {
    const memory = new Memory({ store: createStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false, ...options });
    open.push(memory);
    return memory;
  }

  describe('add', () => {
    it('stores a memory with normalised fields and a UUIDv7 id', async () => {
      const memory = createMemory();
      const {
        memory: stored,
        status,
        warnings,
      } = await memory.add({
        content: 'Postgres connection pool exhausted under load',
        type: 'bug',
        tags: [' DB ', 'db', 'Perf', ''],
        metadata: { service: 'api' },
        scope: { userId: 'u1' },
        importance: 0.8,
      });
      expect(status).toBe('created');
      expect(warnings).toEqual([]);
      expect(stored.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(stored).toMatchObject({
        type: 'error',
        subtype: 'bug',
        tags: ['db', 'perf'],
        scope: { userId: 'u1' },
        importance: 0.8,
        accessCount: 0,
      });
      expect(stored.contentHash).toMatch(/^[0-9a-f]{64}$/);
      expect(await memory.get(stored.id)).toEqual(stored);
    });

    it('resolves the ontology: base types, subtypes, legacy and unknown types', async () => {
      const memory = createMemory();
      expect((await memory.add({ content: 'a', type: 'decision' })).memory).toMatchObject({ type: 'decision', subtype: null });
      expect((await memory.add({ content: 'b', type: 'gotcha' })).memory).toMatchObject({ type: 'learning', subtype: 'gotcha' });
      expect((await memory.add({ content: 'c', type: 'pattern/workflow' })).memory).toMatchObject({ type: 'pattern', subtype: 'workflow' });
      expect((await memory.add({ content: 'd', type: 'task' })).memory).toMatchObject({ type: 'observation', subtype: null });
      expect((await memory.add({ content: 'e' })).memory.type).toBe('observation');
      const unknown = await memory.add({ content: 'f', type: 'feeling' });
      expect(unknown.memory.type).toBe('observation');
      expect(unknown.warnings[0]).toMatch(/unknown type "feeling"/);
      const strict = createMemory({ ontology: { strict: true } });
      await expect(strict.add({ content: 'g', type: 'feeling' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'type' });
      const extended = createMemory({ ontology: { types: { experiment: ['ab_test'], error: ['flaky_test'] } } });
      expect((await extended.add({ content: 'h', type: 'ab_test' })).memory).toMatchObject({ type: 'experiment', subtype: 'ab_test' });
      expect((await extended.add({ content: 'i', type: 'flaky_test' })).memory).toMatchObject({ type: 'error', subtype: 'flaky_test' });
    });

    it('emits the warning event for add, addMany and update warnings; only update also logs them', async () => {
      const logged: string[] = [];
      const memory = createMemory({ logger: (message) => logged.push(message) });
      const warnings: string[] = [];
      memory.on('warning', ({ message }) => warnings.push(message));
      await memory.ready();
      warnings.length = 0;
      logged.length = 0;
      const single = await memory.add({ content: 'a', type: 'feeling' });
      expect(single.warnings).toHaveLength(1);
      expect(warnings).toEqual(single.warnings);
      expect(warnings[0]).toMatch(/^unknown type "feeling".*Stored as observation\.$/);
      const many = await memory.addMany([
        { content: 'b', type: 'mood' },
        { content: 'c', type: 'decision' },
        { content: 'a', type: 'feeling' },
      ]);
      expect(many.map((result) => result.status)).toEqual(['created', 'created', 'duplicate']);
      expect(warnings.slice(1)).toEqual([...(many[0]?.warnings ?? []), ...(many[2]?.warnings ?? [])]);
      expect(warnings).toHaveLength(3);
      expect(logged).toEqual([]);
      await expect(memory.addMany([{ content: 'd', type: 'mood' }, { content: ' ' }])).rejects.toMatchObject({ field: 'inputs.1.content' });
      expect(warnings).toHaveLength(3);
      await memory.update(single.memory.id, { type: 'vibe' });
      expect(warnings).toHaveLength(4);
      expect(warnings[3]).toMatch(/^unknown type "vibe"/);
      expect(logged).toEqual([warnings[3]]);
    });

    it('returns the existing memory for exact duplicates in the same scope', async () => {
      const memory = createMemory();
      const first = await memory.add({ content: 'Use pnpm in this repo', scope: { userId: 'u' } });
      const again = await memory.add({ content: '  use PNPM in   this repo ', scope: { userId: 'u' } });
      expect(again.status).toBe('duplicate');
      expect(again.memory.id).toBe(first.memory.id);
      const otherScope = await memory.add({ content: 'Use pnpm in this repo', scope: { userId: 'v' } });
      expect(otherScope.status).toBe('created');
      expect(await memory.count()).toBe(2);
    });

    it('updates in place for the same key', async () => {
      const memory = createMemory();
      const events: string[] = [];
      memory.on('memory:added', ({ status }) => events.push(status));
      const first = await memory.add({ content: 'theme: dark', key: 'pref:theme' });
      const second = await memory.add({ content: 'theme: light', key: 'pref:theme' });
      expect(second.status).toBe('updated');
      expect(second.memory.id).toBe(first.memory.id);
      expect((await memory.get(first.memory.id))?.content).toBe('theme: light');
      expect(events).toEqual(['created', 'updated']);
      const results = await memory.search('theme light', { mode: 'vector' });
      expect(results[0]?.memory.content).toBe('theme: light');
    });

    it('keeps the key of a keyed add whose content another memory already has (an upsert by key, never a dedupe)', async () => {
      const memory = createMemory({ dedup: { semantic: true, threshold: 0.9 } });
      const scope = { userId: 'kim' };
      const plain = await memory.add({ content: 'prefers tea', scope });
      const keyed = await memory.add({ content: 'prefers tea', scope, key: 'drink' });
      expect(keyed.status).toBe('created');
      expect(keyed.memory.id).not.toBe(plain.memory.id);
      expect(keyed.memory.key).toBe('drink');
      const near = await memory.add({ content: 'prefers tea!', scope, key: 'beverage' });
      expect(near.status).toBe('created');
      expect(near.memory.key).toBe('beverage');
      const [again, other] = await memory.addMany([
        { content: 'prefers tea', scope, key: 'drink' },
        { content: 'prefers tea', scope, key: 'hot-drink' },
      ]);
      expect(again?.status).toBe('duplicate');
      expect(again?.memory.id).toBe(keyed.memory.id);
      expect(other?.status).toBe('created');
      expect(other?.memory.key).toBe('hot-drink');
      expect(await memory.count({ scope })).toBe(4);
    });

    it('rejects bad input with the field named, writing nothing', async () => {
      const memory = createMemory();
      await expect(memory.add({ content: '   ' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'content' });
      await expect(memory.add({ content: 42 } as never)).rejects.toMatchObject({ field: 'content' });
      await expect(memory.add({ content: 'x', importance: 2 })).rejects.toMatchObject({ field: 'importance' });
      await expect(memory.add({ content: 'x', scope: { userId: '' } })).rejects.toMatchObject({ field: 'scope.userId' });
      await expect(memory.add({ content: 'x', colour: 'red' } as never)).rejects.toThrow(/unknown option.*colour/);
      await expect(memory.add({ content: 'x'.repeat(1_000_001) })).rejects.toMatchObject({ field: 'content' });
      const small = createMemory({ maxContentBytes: 10 });
      await expect(small.add({ content: 'ünïcödé!!' })).rejects.toThrow(/over the 10-byte limit/);
      await expect(memory.addMany([{ content: 'fine' }, { content: '' }])).rejects.toMatchObject({ field: 'inputs.1.content' });
      expect(await memory.count()).toBe(0);
      const error = await memory.add({ content: '' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ValidationError);
      expect(EngramError.isInstance(error)).toBe(true);
    });

    it('adds many in one call with batched embedding', async () => {
      const base = hashEmbedder({ dimensions: 64 });
      const calls: number[] = [];
      const embedder: Embedder = {
        ...base,
        maxBatchSize: 40,
        embed: async (texts) => {
          calls.push(texts.length);
          return base.embed(texts);
        },
      };
      const memory = createMemory({ embedder });
      const results = await memory.addMany(
        Array.from({ length: 100 }, (_, index) => ({ content: `fact number ${index}`, tags: ['bulk'] })),
      );
      expect(results.every((result) => result.status === 'created')).toBe(true);
      expect(calls).toEqual([40, 40, 20]);
      expect(await memory.count({ tags: ['bulk'] })).toBe(100);
      const again = await memory.addMany([{ content: 'fact number 3' }, { content: 'brand new' }]);
      expect(again.map((result) => result.status)).toEqual(['duplicate', 'created']);
      expect(calls.at(-1)).toBe(1);
    });

    it('optionally rejects semantic near-duplicates, except within a conversation', async () => {
      const memory = createMemory({ dedup: { semantic: true, threshold: 0.9 } });
      const first = await memory.add({ content: 'The staging database password rotates every Monday morning' });
      const near = await memory.add({ content: 'The staging database password rotates every Monday morning!' });
      expect(near.status).toBe('duplicate');
      expect(near.memory.id).toBe(first.memory.id);
      const conversational = await memory.add({
        content: 'The staging database password rotates every monday morning.',
        conversationId: 'chat-1',
      });
      expect(conversational.status).toBe('created');
      const different = await memory.add({ content: 'Lunch is at noon in the big meeting room' });
      expect(different.status).toBe('created');
    });

    it('accepts createdAt and the optional episodic fields', async () => {
      const memory = createMemory();
      const createdAt = new Date('2024-02-29T12:00:00Z');
      const { memory: stored } = await memory.add({
        content: 'we shipped v2',
        createdAt: createdAt.toISOString(),
        emotion: 'pride',
        emotionalValence: 0.8,
        emotionalArousal: 0.6,
        episodeId: 'launch',
        sequenceNumber: 2,
        source: 'standup',
        credibility: 0.9,
      });
      expect(stored.createdAt).toEqual(createdAt);
      expect(stored).toMatchObject({ emotion: 'pride', emotionalValence: 0.8, episodeId: 'launch', sequenceNumber: 2, credibility: 0.9 });
      await expect(memory.add({ content: 'bad', emotionalValence: -2 })).rejects.toMatchObject({ field: 'emotionalValence' });
      await expect(memory.add({ content: 'bad', createdAt: 'not a date' })).rejects.toMatchObject({ field: 'createdAt' });
    });
  });

  describe('search', () => {
    it('finds by meaning and by words, best first, scores in 0..1', async () => {
      const memory = createMemory();
      await memory.addMany([
        { content: 'The deploy failed because the database migration timed out', type: 'failure' },
        { content: 'We chose Postgres over MongoDB for transactional guarantees', type: 'tool_choice' },
        { content: 'Lunch was pizza', type: 'observation' },
      ]);
      for (const mode of ['hybrid', 'lexical', 'vector'] as const) {
        const hits = await memory.search('database migration timeout', { mode });
        expect(hits[0]?.memory.content).toMatch(/migration/);
        for (const hit of hits) expect(hit.score).toBeGreaterThanOrEqual(0);
        for (const hit of hits) expect(hit.score).toBeLessThanOrEqual(1);
      }
    });

    it('filters at the source: valid matches survive hundreds of better non-matching memories', async () => {
      const memory = createMemory();
      await memory.addMany(
        Array.from({ length: 300 }, (_, index) => ({
          content: `redis cache eviction storm in region ${index}`,
          scope: { userId: 'noisy' },
          tags: ['ops'],
        })),
      );
      const target = await memory.add({
        content: 'one small note mentioning redis among other words',
        scope: { userId: 'quiet' },
        tags: ['notes'],
      });
      // minScore 0: the target holds one query word of four, which the relevance floor would drop;
      // this case is about filters, so it asks for every match.
      for (const mode of ['hybrid', 'lexical', 'vector'] as const) {
        expect(
          (await memory.search('redis cache eviction storm', { mode, scope: { userId: 'quiet' }, limit: 3, minScore: 0 })).map(
            (hit) => hit.memory.id,
          ),
        ).toEqual([target.memory.id]);
        expect(
          (await memory.search('redis cache eviction storm', { mode, tags: ['notes'], limit: 1, minScore: 0 })).map((hit) => hit.memory.id),
        ).toEqual([target.memory.id]);
      }
    });

    it('filters by types (base types select their subtypes), tags any/all, metadata and time', async () => {
      const now = Date.UTC(2026, 10, 21, 12);
      const memory = createMemory({ now: () => now });
      await memory.addMany([
        {
          content: 'alpha bug in parser',
          type: 'bug',
          tags: ['parser', 'p1'],
          metadata: { priority: 5 },
          createdAt: new Date(now - 2 * DAY),
        },
        {
          content: 'alpha insight about parser',
          type: 'insight',
          tags: ['parser'],
          metadata: { priority: 2 },
          createdAt: new Date(now - 40 * DAY),
        },
        {
          content: 'alpha decision on parser',
          type: 'architecture',
          tags: ['p1'],
          metadata: { priority: 4 },
          createdAt: new Date(now - 400 * DAY),
        },
      ]);
      const contents = async (options: Parameters<Memory['search']>[1]) =>
        (await memory.search('alpha parser', options)).map((hit) => hit.memory.content).sort();
      expect(await contents({ types: ['error'] })).toEqual(['alpha bug in parser']);
      expect(await contents({ types: ['insight', 'decision'] })).toEqual(['alpha decision on parser', 'alpha insight about parser']);
      expect(await contents({ tags: ['p1'] })).toEqual(['alpha bug in parser', 'alpha decision on parser']);
      expect(await contents({ tags: { all: ['parser', 'p1'] } })).toEqual(['alpha bug in parser']);
      expect(await contents({ where: { priority: { gt: 3 } } })).toEqual(['alpha bug in parser', 'alpha decision on parser']);
      expect(await contents({ where: { or: [{ priority: 2 }, { priority: 4 }] } })).toEqual([
        'alpha decision on parser',
        'alpha insight about parser',
      ]);
      expect(await contents({ time: 'last week' })).toEqual([]);
      expect(await contents({ time: 'last 7 days' })).toEqual(['alpha bug in parser']);
      expect(await contents({ after: new Date(now - 100 * DAY) })).toEqual(['alpha bug in parser', 'alpha insight about parser']);
      expect(await contents({ before: new Date(now - 100 * DAY) })).toEqual(['alpha decision on parser']);
      await expect(memory.search('x', { time: 'whenever-ish' })).rejects.toMatchObject({ field: 'time' });
      await expect(memory.search('x', { types: ['nonsense'] })).rejects.toMatchObject({ field: 'options.types' });
      await expect(memory.search('x', { where: { priority: { between: [1, 2] } } as never })).rejects.toMatchObject({
        field: 'options.where.priority.between',
      });
      await expect(memory.search('x', { after: new Date(now), before: new Date(now - DAY) })).rejects.toMatchObject({
        field: 'options.after',
      });
      await expect(memory.search('x', { limit: 0 })).rejects.toMatchObject({ field: 'options.limit' });
    });

    it('handles FTS-hostile queries', async () => {
      const memory = createMemory();
      await memory.add({ content: 'config: use "strict" mode AND (never) NEAR production' });
      for (const query of ['"strict', 'config:', 'AND', 'OR NOT', 'NEAR(', '(((', 'stri*', '*', "it's", 'x'.repeat(10_240), '🙂', '']) {
        await expect(memory.search(query)).resolves.toBeInstanceOf(Array);
      }
      expect((await memory.search('"strict" (mode)'))[0]?.memory.content).toMatch(/strict/);
    });

    it('explains each signal, and the contributions add up to the score', async () => {
      const now = Date.UTC(2026, 0, 1);
      const memory = createMemory({ now: () => now });
      await memory.add({ content: 'kubernetes pod crashloop after upgrade', importance: 0.9, createdAt: new Date(now - 30 * DAY) });
      await memory.add({ content: 'unrelated text about gardening' });
      const [hit] = await memory.search('kubernetes crashloop', { explain: true });
      const explanation = hit?.explanation;
      expect(explanation?.lexical?.rank).toBe(1);
      expect(explanation?.vector?.rank).toBe(1);
      expect(explanation?.recency.value).toBeCloseTo(0.5, 5);
      expect(explanation?.importance.value).toBe(0.9);
      const sum =
        (explanation?.lexical?.contribution ?? 0) +
        (explanation?.vector?.contribution ?? 0) +
        (explanation?.recency.contribution ?? 0) +
        (explanation?.importance.contribution ?? 0);
      expect(sum).toBeCloseTo(hit?.score ?? -1, 10);
      expect(explanation?.relevance).toBeCloseTo(1, 10);
      expect((await memory.search('kubernetes crashloop', { minScore: 0.99 })).length).toBe(0);
      expect((await memory.search('kubernetes crashloop'))[0]?.explanation).toBeUndefined();
    });

    it('records access after search without changing updatedAt', async () => {
      const memory = createMemory();
      const { memory: stored } = await memory.add({ content: 'access counting works' });
      await memory.search('access counting');
      await memory.search('access counting');
      const after = await memory.get(stored.id);
      expect(after?.accessCount).toBe(2);
      expect(after?.lastAccessedAt).toBeInstanceOf(Date);
      expect(after?.updatedAt).toEqual(stored.updatedAt);
    });

    it('emits a search event', async () => {
      const memory = createMemory();
      const handler = vi.fn();
      memory.on('search', handler);
      await memory.add({ content: 'events are typed' });
      await memory.search('events');
      expect(handler).toHaveBeenCalledWith(expect.objectContaining({ query: 'events', mode: 'hybrid', hits: 1 }));
    });
  });

  describe('update, delete, list, count', () => {
    it('updates fields, re-embeds on content change, and emits', async () => {
      const memory = createMemory();
      const updates: Array<{ memory: MemoryRecord; previous: MemoryRecord }> = [];
      memory.on('memory:updated', (event) => updates.push(event));
      const { memory: stored } = await memory.add({ content: 'the build uses webpack', tags: ['build'] });
      const updated = await memory.update(stored.id, {
        content: 'the build uses esbuild',
        tags: ['Build', 'Tooling'],
        type: 'tool_choice',
        importance: 0.7,
        metadata: { v: 2 },
      });
      expect(updated).toMatchObject({
        content: 'the build uses esbuild',
        tags: ['build', 'tooling'],
        type: 'decision',
        subtype: 'tool_choice',
        importance: 0.7,
        metadata: { v: 2 },
      });
      expect(updated.contentHash).not.toBe(stored.contentHash);
      expect(updates[0]?.previous.content).toBe('the build uses webpack');
      expect((await memory.search('esbuild', { mode: 'vector' }))[0]?.memory.id).toBe(stored.id);
      expect((await memory.search('esbuild', { mode: 'lexical' }))[0]?.memory.id).toBe(stored.id);
      expect(await memory.search('webpack', { mode: 'lexical' })).toEqual([]);
      await expect(memory.update('nope', { content: 'x' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(memory.update(stored.id, { importance: -1 })).rejects.toMatchObject({ field: 'patch.importance' });
      await expect(memory.update(stored.id, { content: ' ' })).rejects.toMatchObject({ field: 'patch.content' });
    });

    it('soft-deletes: never leaks through get, search, list or count', async () => {
      const memory = createMemory();
      const deleted = vi.fn();
      memory.on('memory:deleted', deleted);
      const { memory: keep } = await memory.add({ content: 'zebra crossing keep' });
      const { memory: gone } = await memory.add({ content: 'zebra crossing gone' });
      expect(await memory.delete(gone.id)).toBe(true);
      expect(await memory.delete(gone.id)).toBe(false);
      expect(await memory.delete('unknown-id')).toBe(false);
      expect(deleted).toHaveBeenCalledTimes(1);
      expect(await memory.get(gone.id)).toBeNull();
      for (const mode of ['hybrid', 'lexical', 'vector'] as const) {
        expect((await memory.search('zebra crossing gone', { mode })).map((hit) => hit.memory.id)).toEqual([keep.id]);
      }
      expect((await memory.list()).items.map((item) => item.id)).toEqual([keep.id]);
      expect(await memory.count()).toBe(1);
      // Adding the same content again creates a new memory: the deleted one is gone.
      expect((await memory.add({ content: 'zebra crossing gone' })).status).toBe('created');
    });

    it('lists newest first with cursors and filters', async () => {
      const memory = createMemory();
      const start = Date.UTC(2025, 0, 1);
      await memory.addMany(
        Array.from({ length: 12 }, (_, index) => ({
          content: `item ${index}`,
          createdAt: new Date(start + index * DAY),
          tags: index % 2 ? ['odd'] : ['even'],
        })),
      );
      const first = await memory.list({ limit: 5 });
      expect(first.items.map((item) => item.content)).toEqual(['item 11', 'item 10', 'item 9', 'item 8', 'item 7']);
      const second = await memory.list({ limit: 5, cursor: first.nextCursor ?? undefined });
      const third = await memory.list({ limit: 5, cursor: second.nextCursor ?? undefined });
      expect(third.items.map((item) => item.content)).toEqual(['item 1', 'item 0']);
      expect(third.nextCursor).toBeNull();
      expect((await memory.list({ tags: ['odd'] })).items).toHaveLength(6);
      expect(await memory.count({ tags: ['even'], after: new Date(start + 5 * DAY) })).toBe(3);
      await expect(memory.list({ cursor: 'garbage' })).rejects.toMatchObject({ field: 'cursor' });
    });
  });

  describe('context', () => {
    it('packs the best memories into a prompt block within the token budget', async () => {
      const memory = createMemory();
      await memory.addMany(
        Array.from({ length: 30 }, (_, index) => ({
          content: `The payment service retries failed charges, note ${index}: ${'detail '.repeat(10)}`,
          type: 'learning',
        })),
      );
      const result = await memory.context({ query: 'payment retries', tokenBudget: 200 });
      expect(result.tokens).toBeLessThanOrEqual(200);
      expect(result.text.length / 4).toBeLessThanOrEqual(200);
      expect(result.text).toMatch(/^Relevant memories/);
      expect(result.text).toMatch(/\[learning, \d{4}-\d{2}-\d{2}\]/);
      expect(result.hits.length).toBeGreaterThan(1);
      expect(result.hits.length).toBeLessThan(30);
      const tiny = await memory.context({ query: 'payment retries', tokenBudget: 30 });
      expect(tiny.tokens).toBeLessThanOrEqual(30);
      expect(tiny.hits).toHaveLength(1);
      expect((await memory.context({ query: 'nothing matches zzzz qqqq', mode: 'lexical' })).text).toBe('');
      await expect(memory.context({ query: 'x', tokenBudget: 1 })).rejects.toMatchObject({ field: 'options.tokenBudget' });
    });
  });

  describe('embedders', () => {
    it('rejects an embedder that returns the wrong shape', async () => {
      const bad: Embedder = { specificationVersion: 'v1', id: 'bad', dimensions: 8, embed: async (texts) => texts.map(() => [1, 2, 3]) };
      const memory = createMemory({ embedder: bad });
      await expect(memory.add({ content: 'x' })).rejects.toBeInstanceOf(EmbedderError);
      expect(await memory.count()).toBe(0);
    });

    it('accepts number[][] from a plain-object embedder', async () => {
      const plain: Embedder = {
        specificationVersion: 'v1',
        id: 'plain',
        dimensions: 3,
        embed: async (texts) => texts.map((text) => [text.length, 1, 0]),
      };
      const memory = createMemory({ embedder: plain });
      await memory.add({ content: 'abc' });
      expect((await memory.search('abc', { mode: 'vector' }))[0]?.memory.content).toBe('abc');
    });
  });

  it('fails on every call after close', async () => {
    const memory = new Memory({ store: createStore(), embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    await memory.add({ content: 'x' });
    await memory.close();
    await memory.close();
    await expect(memory.add({ content: 'y' })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('Memory on a reopened SQLite file', () => {
  it('keeps data, and refuses another embedder with advice', async () => {
    const path = tempPath();
    const first = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    await first.add({ content: 'persisted across restarts' });
    await first.close();
    const second = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    expect((await second.search('persisted restarts'))[0]?.memory.content).toBe('persisted across restarts');
    await second.close();
    const mismatched = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 64 }), logger: false });
    const error = await mismatched.search('x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbedderMismatchError);
    expect((error as Error).message).toMatch(/hash-v1-32.*hash-v1-64.*engram reembed --embedder hash-v1-64/s);
    await mismatched.close();
  });
});
