// Right to erasure end to end on SQLite: after forget, the erased text is in no file of the store.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, inMemoryStore, Memory, ValidationError } from '@engram/core';
import { createEngramMcpServer } from '@engram/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/engram/src/cli/program.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const MARKER = 'qzxvwplmk';

/** Every file of the store (database, WAL, shared memory, snapshots), and which hold `text`. */
function filesHolding(directory: string, text: string): string[] {
  const needle = Buffer.from(text, 'utf8');
  return readdirSync(directory).filter((name) => readFileSync(join(directory, name)).includes(needle));
}

const open = (path: string, now?: () => number) =>
  new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 32 }), logger: false, ...(now ? { now } : {}) });

describe('forget on SQLite', () => {
  it('erases a user from the table, history, edges, vectors, index snapshots and WAL', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-erasure-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const memory = open(path);
    // Enough memories that the lexical and vector indexes persist snapshots beside the file.
    await memory.addMany(
      Array.from({ length: 2_100 }, (_, index) => ({
        content: `bob note ${index} about deployment topic ${index % 37}`,
        scope: { userId: 'bob' },
      })),
    );
    const alice = await memory.addMany(
      Array.from({ length: 5 }, (_, index) => ({
        content: `alice private ${MARKER} record ${index}`,
        tags: [`tag${MARKER}`],
        metadata: { secret: `${MARKER}-${index}` },
        scope: { userId: 'alice', agentId: `agent${index % 2}` },
      })),
    );
    const aliceIds = alice.map((result) => result.memory.id);
    await memory.update(aliceIds[0] as string, { content: `alice updated ${MARKER} text` });
    await memory.delete(aliceIds[1] as string);
    const bobId = (await memory.list({ scope: { userId: 'bob' }, limit: 1 })).items[0]?.id as string;
    await memory.link(aliceIds[2] as string, bobId, 'related');
    expect((await memory.search(MARKER, { mode: 'lexical' })).length).toBeGreaterThan(0);
    expect((await memory.search('alice private record', { mode: 'vector' })).length).toBeGreaterThan(0);

    // A second process-like connection that built its indexes before the erasure.
    const other = open(path);
    expect((await other.search(MARKER, { mode: 'lexical' })).length).toBeGreaterThan(0);
    await memory.close();
    // The test is only meaningful if the marker really was in the files (snapshots included).
    expect(filesHolding(directory, MARKER).length).toBeGreaterThan(0);
    expect(readdirSync(directory).some((name) => name.endsWith('-lexical.snapshot'))).toBe(true);

    const eraser = open(path);
    const result = await eraser.forget({ scope: { userId: 'alice' } });
    expect(result.forgotten).toBe(5);
    expect(result.ids.sort()).toEqual([...aliceIds].sort());
    for (const id of aliceIds) {
      expect(await eraser.get(id)).toBeNull();
      expect(await eraser.history(id)).toEqual([]);
    }
    expect(await eraser.relations(bobId)).toEqual([]);
    expect(await eraser.search(MARKER, { mode: 'lexical' })).toEqual([]);
    expect(
      (await eraser.search('alice private record', { mode: 'vector', limit: 50 })).every((hit) => !aliceIds.includes(hit.memory.id)),
    ).toBe(true);
    expect(await eraser.count()).toBe(2_100);
    // The connection that loaded before the erasure catches up from the rows, then closes (and
    // may save a snapshot: it must not hold the erased words).
    expect(await other.search(MARKER, { mode: 'lexical' })).toEqual([]);
    await other.close();
    await eraser.close();

    expect(filesHolding(directory, MARKER)).toEqual([]);
    expect(existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`).length : 0).toBe(0);

    const reopened = open(path);
    expect(await reopened.count()).toBe(2_100);
    expect(await reopened.search(MARKER, { mode: 'lexical' })).toEqual([]);
    await reopened.close();
  });

  it('purges tombstones after the retention period, and checks its input', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-retention-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    let clock = Date.UTC(2026, 0, 1);
    const memory = open(path, () => clock);
    const old = (await memory.add({ content: `old ${MARKER} tombstone` })).memory.id;
    const recent = (await memory.add({ content: 'recent tombstone' })).memory.id;
    const alive = (await memory.add({ content: 'still alive' })).memory.id;
    await memory.delete(old);
    clock += 20 * 86_400_000;
    await memory.delete(recent);
    expect((await memory.history(old)).map((entry) => entry.event)).toEqual(['created', 'deleted']);
    await memory.close();

    const withRetention = new Memory({
      store: sqliteStore({ path }),
      embedder: hashEmbedder({ dimensions: 32 }),
      logger: false,
      retention: { deletedDays: 10 },
      now: () => clock,
    });
    const forgotten: string[][] = [];
    withRetention.on('memory:forgotten', (event) => forgotten.push(event.ids));
    await withRetention.ready();
    expect(forgotten).toEqual([[old]]);
    expect(await withRetention.history(old)).toEqual([]);
    expect((await withRetention.history(recent)).length).toBe(2);
    expect((await withRetention.purgeDeleted({ olderThanDays: 0 })).ids).toEqual([recent]);
    expect(await withRetention.get(alive)).not.toBeNull();
    await withRetention.close();
    expect(filesHolding(directory, MARKER)).toEqual([]);
  });
});

describe('forget input', () => {
  it('names what is wrong', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    const { memory: kept } = await memory.add({ content: 'kept', scope: { userId: 'bob' } });
    const cases: Array<[unknown, string]> = [
      [{}, 'input'],
      [{ scope: {} }, 'input.scope'],
      [{ scope: { userId: 'a' }, ids: ['x'] }, 'input'],
      [{ ids: [] }, 'input.ids'],
      [{ ids: 'abc' }, 'input.ids'],
      [null, 'input'],
    ];
    for (const [input, field] of cases) {
      const error = await memory.forget(input as never).catch((caught: unknown) => caught);
      expect(ValidationError.isInstance(error), JSON.stringify(input)).toBe(true);
      expect((error as ValidationError).field, JSON.stringify(input)).toBe(field);
    }
    expect(await memory.forget({ ids: ['unknown'] })).toEqual({ forgotten: 0, ids: [] });
    expect(await memory.purgeDeleted().catch((error: Error) => error.message)).toMatch(/retention\.deletedDays/);
    expect(await memory.get(kept.id)).not.toBeNull();
    await memory.close();
  });
});

describe('forget from the CLI and MCP', () => {
  const capture = () => {
    const stream = {
      text: '',
      write(chunk: string) {
        stream.text += chunk;
        return true;
      },
    };
    return stream;
  };
  const run = async (args: string[]) => {
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(args, { stdout, stderr, env: { ENGRAM_EMBEDDER: 'hash' } });
    return { code, stdout: stdout.text, stderr: stderr.text };
  };

  it('engram forget --user alice asks for --yes, then erases', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-forget-cli-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const memory = open(path);
    await memory.add({ content: `alice ${MARKER} one`, scope: { userId: 'alice' } });
    const deleted = await memory.add({ content: `alice ${MARKER} two`, scope: { userId: 'alice', agentId: 'a' } });
    await memory.delete(deleted.memory.id);
    await memory.add({ content: 'bob stays', scope: { userId: 'bob' } });
    await memory.close();

    const dry = await run(['forget', '--user', 'alice', '--path', path]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('2 memories (user alice) would be erased');
    expect(dry.stdout).toContain('--yes');
    const usage = await run(['forget', '--path', path]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('say what to forget');

    const done = await run(['forget', '--user', 'alice', '--yes', '--json', '--path', path]);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).forgotten).toBe(2);
    expect(filesHolding(directory, MARKER)).toEqual([]);
    const after = open(path);
    expect(await after.count()).toBe(1);
    await after.close();
  });

  it('memory_forget is a dry run until confirm: true', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    const server = createEngramMcpServer({ memory, log: () => {} });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    await memory.add({ content: 'carol one', scope: { userId: 'carol' } });
    await memory.add({ content: 'carol two', scope: { userId: 'carol' } });
    await memory.add({ content: 'dave', scope: { userId: 'dave' } });
    type Result = { isError?: boolean; content: Array<{ text: string }>; structuredContent?: Record<string, unknown> };
    const call = async (args: Record<string, unknown>) => (await client.callTool({ name: 'memory_forget', arguments: args })) as Result;
    const dry = await call({ user_id: 'carol' });
    expect(dry.structuredContent).toEqual({ dry_run: true, matched: 2, forgotten: 0 });
    expect(dry.content[0]?.text).toContain('2 memories would be erased');
    expect((await call({})).isError).toBe(true);
    const done = await call({ user_id: 'carol', confirm: true });
    expect(done.structuredContent).toEqual({ dry_run: false, matched: 2, forgotten: 2 });
    expect(await memory.count()).toBe(1);
    await client.close();
    await memory.close();
  });
});
