// Regression tests for the inputs fuzzing found mishandled (issue 17). Each case failed before its fix.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { EngramError, hashEmbedder, inMemoryStore, Memory, type MemoryStore, ValidationError } from '@engram/core';
import { createEngramMcpServer, startMcpServer } from '@engram/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { plural } from '../packages/mcp/src/tools/tool-kit.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const temporaryDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), 'engram-fuzz-'));
  directories.push(directory);
  return directory;
};

const backends: Array<[string, () => MemoryStore]> = [
  ['memory', () => inMemoryStore()],
  ['sqlite', () => sqliteStore({ path: join(temporaryDirectory(), 'memory.db') })],
];

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe.each(backends)('fuzzing regressions on %s', (_name, createStore) => {
  const open: Memory[] = [];
  afterEach(async () => {
    for (const memory of open.splice(0)) await memory.close();
  });
  const memoryWith = (options: Partial<ConstructorParameters<typeof Memory>[0]> = {}) => {
    const memory = new Memory({ store: createStore(), embedder: hashEmbedder({ dimensions: 32 }), logger: false, ...options });
    open.push(memory);
    return memory;
  };

  it('rejects a BigInt or Symbol relationship type with a ValidationError, not a TypeError', async () => {
    const memory = memoryWith();
    const a = (await memory.add({ content: 'alpha' })).memory.id;
    const b = (await memory.add({ content: 'beta' })).memory.id;
    for (const type of [10n, Symbol('causes'), undefined, null, 3, {}]) {
      const error = await rejection(memory.link(a, b, type as unknown as string));
      expect(EngramError.isInstance(error), String(error)).toBe(true);
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as ValidationError).field).toBe('type');
    }
    const error = await rejection(memory.link(a, b, 10n as unknown as string));
    expect(error.message).toContain('10n');
    expect((await rejection(memory.link(a, b, Symbol('x') as unknown as string))).message).toContain('Symbol(x)');
  });

  it('rejects lone surrogates with a ValidationError naming the field, and never changes content', async () => {
    const memory = memoryWith();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ content: '\uD800 x' }, 'content'],
      [{ content: 'x \uDFFF' }, 'content'],
      [{ content: 'fine', tags: ['ok', '\uDBFF'] }, 'tags.1'],
      [{ content: 'fine', metadata: { note: 'a\uD800' } }, 'metadata.note'],
      [{ content: 'fine', metadata: { nested: [{ deep: '\uDC00' }] } }, 'metadata.nested.0.deep'],
      [{ content: 'fine', metadata: { 'k\uD800': 1 } }, 'metadata'],
      [{ content: 'fine', scope: { userId: '\uD800' } }, 'scope.userId'],
      [{ content: 'fine', context: '\uDBFF' }, 'context'],
    ];
    for (const [input, field] of cases) {
      const error = await rejection(memory.add(input as never));
      expect(ValidationError.isInstance(error), JSON.stringify(input)).toBe(true);
      expect((error as ValidationError).field).toBe(field);
      expect(error.message).toContain('surrogate');
    }
    const error = await rejection(memory.addMany([{ content: 'ok' }, { content: '\uD800' }]));
    expect((error as ValidationError).field).toBe('inputs.1.content');
    expect(await memory.count()).toBe(0);

    // Well-formed text round-trips exactly, pairs and U+FFFD included, and distinct texts stay distinct.
    const texts = ['\uFFFD x', '\uD83D\uDE00 x', '\uDBFF\uDFFF x'];
    const ids = [];
    for (const content of texts) {
      const { memory: stored, status } = await memory.add({ content });
      expect(status).toBe('created');
      ids.push(stored.id);
    }
    for (const [index, id] of ids.entries()) expect((await memory.get(id))?.content).toBe(texts[index]);

    const first = ids[0] as string;
    expect(ValidationError.isInstance(await rejection(memory.update(first, { content: 'a\uD800' })))).toBe(true);
    expect(((await rejection(memory.update(first, { content: 'a\uD800' }))) as ValidationError).field).toBe('patch.content');
    expect((await memory.get(first))?.content).toBe('\uFFFD x');
  });

  it('rejects impossible calendar dates instead of rolling them over', async () => {
    const memory = memoryWith();
    for (const createdAt of ['2024-02-30', '2023-02-29', '2024-04-31', '2024-13-45', '2024-00-10', '2024-02-30T10:00:00Z']) {
      const error = await rejection(memory.add({ content: `on ${createdAt}`, createdAt }));
      expect(ValidationError.isInstance(error), createdAt).toBe(true);
      expect((error as ValidationError).field).toBe('createdAt');
    }
    for (const option of ['after', 'before', 'asOf'] as const) {
      const error = await rejection(memory.search('x', { [option]: '2024-02-30' }));
      expect((error as ValidationError).field).toBe(`options.${option}`);
      expect((await rejection(memory.list({ [option]: '2025-06-31' }))) instanceof ValidationError).toBe(true);
    }
    const leap = await memory.add({ content: 'leap day', createdAt: '2024-02-29' });
    expect(leap.memory.createdAt.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    const centuryLeap = await memory.add({ content: 'century leap day', createdAt: '2000-02-29T12:00:00Z' });
    expect(centuryLeap.memory.createdAt.toISOString()).toBe('2000-02-29T12:00:00.000Z');
    expect(ValidationError.isInstance(await rejection(memory.add({ content: 'no', createdAt: '1900-02-29' })))).toBe(true);
  });

  it('limits metadata size, keys and depth (configurable) and rejects __proto__ everywhere', async () => {
    const memory = memoryWith();
    const big = { blob: 'x'.repeat(5_000_000) };
    const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`k${index}`, index]));
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 20; level++) deep = { inner: deep };
    for (const [metadata, words] of [
      [big, 'maxBytes'],
      [many, 'maxKeys'],
      [deep, 'maxDepth'],
    ] as const) {
      const error = await rejection(memory.add({ content: 'meta', metadata }));
      expect((error as ValidationError).field).toBe('metadata');
      expect(error.message).toContain(words);
    }
    const { memory: stored } = await memory.add({ content: 'small meta', metadata: { ok: true } });
    expect(((await rejection(memory.update(stored.id, { metadata: many }))) as ValidationError).field).toBe('patch.metadata');
    const other = (await memory.add({ content: 'other' })).memory.id;
    expect(((await rejection(memory.link(stored.id, other, 'related', { metadata: deep }))) as ValidationError).field).toBe(
      'options.metadata',
    );
    expect(await memory.count()).toBe(2);

    const roomy = memoryWith({ metadataLimits: { maxKeys: 30_000, maxBytes: 1_000_000, maxDepth: 30 } });
    expect((await roomy.add({ content: 'many keys', metadata: many })).status).toBe('created');
    expect((await roomy.add({ content: 'deep', metadata: deep })).status).toBe('created');
    expect(() => memoryWith({ metadataLimits: { maxKeys: 0 } })).toThrow(/metadataLimits\.maxKeys/);

    const proto = (json: string) => JSON.parse(json) as never;
    const protoCases: Array<[Promise<unknown>, string]> = [
      [memory.add(proto('{"content":"p","__proto__":{"polluted":1}}')), '__proto__'],
      [memory.add(proto('{"content":"p","metadata":{"__proto__":{"x":1}}}')), 'metadata.__proto__'],
      [memory.add(proto('{"content":"p","metadata":{"a":[{"__proto__":1}]}}')), 'metadata.a.0.__proto__'],
      [memory.search('p', proto('{"__proto__":{"limit":1}}')), 'options.__proto__'],
      [memory.update(stored.id, proto('{"metadata":{"__proto__":1}}')), 'patch.metadata.__proto__'],
      [memory.link(stored.id, other, 'related', proto('{"metadata":{"__proto__":1}}')), 'options.metadata.__proto__'],
    ];
    for (const [promise, field] of protoCases) {
      const error = await rejection(promise);
      expect(ValidationError.isInstance(error), field).toBe(true);
      expect((error as ValidationError).field).toBe(field);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('stale snapshot temporary files', () => {
  it('are removed on open when their process is gone; a live process’s file is left alone', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
    const stale = `${path}-lexical.snapshot.${gone}.tmp`;
    const staleVectors = `${path}-vectors.snapshot.${gone}.tmp`;
    const live = `${path}-lexical.snapshot.${process.ppid}.tmp`;
    const unrelated = join(directory, 'other.db-lexical.snapshot.1.tmp');
    for (const file of [stale, staleVectors, live, unrelated]) writeFileSync(file, Buffer.alloc(4096));
    const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    await memory.add({ content: 'opened' });
    await memory.close();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleVectors)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
  });
});

describe('MCP', () => {
  it('refuses a blank HTTP token instead of serving what no client can use', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    for (const token of ['   ', '', '\t\n']) {
      const error = await rejection(startMcpServer({ transport: 'http', host: '127.0.0.1', port: 0, token, memory, log: () => {} }));
      expect(ValidationError.isInstance(error), JSON.stringify(token)).toBe(true);
      expect((error as ValidationError).field).toBe('token');
    }
  });

  it('says "2 memories", not "2 memorys"', async () => {
    expect(plural(1, 'memory')).toBe('1 memory');
    expect(plural(2, 'memory')).toBe('2 memories');
    expect(plural(0, 'memory')).toBe('0 memories');
    expect(plural(2, 'link')).toBe('2 links');
    expect(plural(2, 'day')).toBe('2 days');
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    const server = createEngramMcpServer({ memory, log: () => {} });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    await memory.add({ content: 'first note about rust' });
    await memory.add({ content: 'second note about rust' });
    const result = (await client.callTool({ name: 'memory_list', arguments: {} })) as { content: Array<{ text: string }> };
    expect(result.content[0]?.text).toMatch(/^2 memories/);
    expect(JSON.stringify(result)).not.toContain('memorys');
    await client.close();
    await memory.close();
  });
});
