// Property-based tests (fast-check) with a fixed seed and a bounded number of runs, so CI is
// deterministic: the SDK against the in-memory reference store, the MCP tools and the CLI parser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { EngramError, hashEmbedder, inMemoryStore, Memory, type MemoryRecord, type MemoryStore } from '@engram/core';
import { createEngramMcpServer, TOOLS } from '@engram/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/engram/src/cli/program.js';

const SEED = 20_261_204;
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const words = ['alpha', 'beta', 'gamma', 'delta', 'deploy', 'retry', 'billing', 'naïve', '日本語', 'emoji😀', 'x'];
const text = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 5 }).map((list) => list.join(' '));
const user = fc.constantFrom('ann', 'bob');
const operation = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      content: text,
      tags: fc.array(fc.constantFrom('t1', 'T2', ' t3 '), { maxLength: 2 }),
      user,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), target: fc.nat(20), content: text }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), target: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), user }) },
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

/** Runs the operations; answers what each call returned (as comparable values) and the memory ids in creation order. */
async function apply(memory: Memory, operations: Operation[]): Promise<{ outcomes: unknown[]; ids: string[] }> {
  const ids: string[] = [];
  const outcomes: unknown[] = [];
  for (const step of operations) {
    try {
      if (step.kind === 'add') {
        const result = await memory.add({ content: step.content, tags: step.tags, scope: { userId: step.user } });
        if (result.status === 'created') ids.push(result.memory.id);
        outcomes.push([result.status, ids.indexOf(result.memory.id)]);
      } else if (step.kind === 'update') {
        const id = ids[step.target % Math.max(1, ids.length)];
        outcomes.push(id === undefined ? 'none' : (await memory.update(id, { content: step.content })).content);
      } else if (step.kind === 'delete') {
        const id = ids[step.target % Math.max(1, ids.length)];
        outcomes.push(id === undefined ? 'none' : await memory.delete(id));
      } else {
        outcomes.push((await memory.forget({ scope: { userId: step.user } })).forgotten);
      }
    } catch (error) {
      // Every failure is an EngramError (a NotFoundError for an erased id, …), the same on both stores.
      expect(EngramError.isInstance(error), String(error)).toBe(true);
      outcomes.push((error as EngramError).code);
    }
  }
  return { outcomes, ids };
}

const view = (record: MemoryRecord, ids: string[]) => ({
  index: ids.indexOf(record.id),
  content: record.content,
  tags: record.tags,
  scope: record.scope,
  type: record.type,
  createdAt: record.createdAt.getTime(),
});

describe('properties', () => {
  it('SQLite behaves like the in-memory reference store: same records, same lexical results', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 1, maxLength: 25 }),
        fc.array(text, { minLength: 1, maxLength: 3 }),
        async (operations, queries) => {
          const directory = mkdtempSync(join(tmpdir(), 'engram-property-'));
          directories.push(directory);
          const run = async (store: MemoryStore) => {
            let clock = Date.UTC(2026, 0, 1);
            const memory = new Memory({
              store,
              embedder: hashEmbedder({ dimensions: 16 }),
              logger: false,
              now: () => {
                clock += 1000;
                return clock;
              },
            });
            const { outcomes, ids } = await apply(memory, operations);
            const records = (await memory.list({ limit: 1000 })).items.map((record) => view(record, ids));
            const searches = [];
            for (const query of queries) {
              const hits = await memory.search(query, { mode: 'lexical', limit: 100 });
              searches.push(hits.map((hit) => ids.indexOf(hit.memory.id)).sort((a, b) => a - b));
            }
            await memory.close();
            return { outcomes, records, searches };
          };
          const reference = await run(inMemoryStore());
          const sqlite = await run(sqliteStore({ path: join(directory, 'memory.db') }));
          expect(sqlite).toEqual(reference);
        },
      ),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('MCP tools answer any arguments with a result or a tool error, never a crash', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    const server = createEngramMcpServer({ memory, log: () => {} });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-property', version: '1.0.0' });
    await client.connect(clientTransport);
    await memory.add({ content: 'a seed memory about billing retries', scope: {} });
    const names = TOOLS.map((tool) => tool.name);
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    const argumentName = fc.constantFrom(
      'content',
      'query',
      'id',
      'tags',
      'limit',
      'types',
      'user_id',
      'metadata',
      'confirm',
      'dry_run',
      'depth',
      '__proto__',
      'x',
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.dictionary(argumentName, value, { maxKeys: 4 }), async (name, args) => {
        const result = (await client.callTool({ name, arguments: args })) as {
          isError?: boolean;
          content: Array<{ type: string; text?: string }>;
        };
        expect(Array.isArray(result.content)).toBe(true);
        expect(result.content[0]?.type).toBe('text');
        if (result.isError) expect(result.content[0]?.text?.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: 150 },
    );
    // Still serving afterwards.
    const stats = (await client.callTool({ name: 'memory_stats', arguments: {} })) as { isError?: boolean };
    expect(stats.isError).toBeFalsy();
    await client.close();
    await memory.close();
  });

  // `export <file>` is left out: random file names would be written into the working folder.
  it('the CLI parser answers any arguments with exit code 0, 1 or 2 and never throws', async () => {
    const store = inMemoryStore();
    const tokens = [
      'add',
      'search',
      'get',
      'list',
      'delete',
      'stats',
      'context',
      'link',
      'neighbors',
      'forget',
      'import',
      'help',
      '--json',
      '--quiet',
      '--limit',
      '5',
      '-1',
      '0',
      'abc',
      '--tags',
      'x,y',
      '--yes',
      '--user',
      'alice',
      '--type',
      'bug',
      '--',
      '',
      ' ',
      '\u0000',
      '--unknown',
      '-z',
      '--budget',
      'NaN',
      '--id',
      '--where',
      '{"a":1}',
      '\uD800',
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 })), { maxLength: 7 }), async (args) => {
        const output = {
          text: '',
          write(chunk: string) {
            output.text += chunk;
            return true;
          },
        };
        const errors = {
          text: '',
          write(chunk: string) {
            errors.text += chunk;
            return true;
          },
        };
        const code = await runCli(args, {
          stdout: output,
          stderr: errors,
          env: {},
          createMemory: () => new Memory({ store, embedder: hashEmbedder(), logger: false }),
        });
        expect([0, 1, 2]).toContain(code);
        if (code !== 0) expect(errors.text.length + output.text.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
