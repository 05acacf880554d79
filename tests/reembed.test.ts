// engram reembed: resumable, old vectors serve searches until one atomic switch, new embedder recorded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { type Embedder, EmbedderMismatchError, hashEmbedder, Memory, reembedStore } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/engram/src/cli/program.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const open = (path: string, dimensions: number) =>
  new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions }), logger: false });

/** An embedder that fails on its `failAt`-th call (a crash in the middle of a run). */
function failingAfter(embedder: Embedder, failAt: number): Embedder {
  let calls = 0;
  return {
    ...embedder,
    id: embedder.id,
    dimensions: embedder.dimensions,
    embed: async (texts, options) => {
      calls += 1;
      if (calls === failAt) throw new Error('simulated crash');
      return embedder.embed(texts, options);
    },
  };
}

describe('reembed (SQLite)', () => {
  it('resumes after a crash, serves old vectors until the switch, picks up concurrent writes', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-reembed-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const before = open(path, 32);
    await before.addMany(Array.from({ length: 600 }, (_, index) => ({ content: `memory number ${index} about subject ${index % 23}` })));
    await before.close();

    const target = hashEmbedder({ dimensions: 64 });
    const crashing = sqliteStore({ path });
    const failure = await reembedStore({ store: crashing, embedder: failingAfter(target, 3), batchSize: 100 }).catch(
      (error: Error) => error,
    );
    await crashing.close();
    expect((failure as Error).message).toContain('simulated crash');

    // Still the old store: the 32-d embedder opens it and vector search works.
    const old = open(path, 32);
    expect((await old.search('memory number 7 about subject 7', { mode: 'vector', limit: 1 }))[0]?.memory.content).toBe(
      'memory number 7 about subject 7',
    );

    const progress: Array<{ embedded: number; total: number }> = [];
    const store = sqliteStore({ path });
    const result = await reembedStore({
      store,
      embedder: target,
      batchSize: 100,
      onProgress: (step) => progress.push(step),
    });
    await store.close();
    expect(result.resumed).toBe(200);
    expect(result.embedded).toBe(400);
    expect(result.total).toBe(600);
    expect(result.from).toEqual({ id: 'hash-v1-32', dimensions: 32 });
    expect(result.to).toEqual({ id: 'hash-v1-64', dimensions: 64 });
    expect(progress.at(-1)).toEqual({ embedded: 600, total: 600 });
    expect(progress.length).toBeGreaterThan(2);
    await old.close();

    const mismatch = await open(path, 32)
      .ready()
      .catch((error: unknown) => error);
    expect(EmbedderMismatchError.isInstance(mismatch)).toBe(true);
    expect((mismatch as Error).message).toContain('engram reembed --embedder hash-v1-32');

    const after = open(path, 64);
    expect((await after.search('memory number 7 about subject 7', { mode: 'vector', limit: 1 }))[0]?.memory.content).toBe(
      'memory number 7 about subject 7',
    );
    expect(await after.count()).toBe(600);
    await after.close();
  });

  it('stages memories written while it runs, then switches', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-reembed-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const writer = open(path, 16);
    await writer.addMany(Array.from({ length: 250 }, (_, index) => ({ content: `entry ${index}` })));
    const store = sqliteStore({ path });
    let added = false;
    const result = await reembedStore({
      store,
      embedder: {
        ...hashEmbedder({ dimensions: 24 }),
        embed: async (texts) => {
          // While the run embeds its first batch, another connection writes with the old embedder.
          if (!added) {
            added = true;
            await writer.add({ content: 'written during the re-embed' });
          }
          return hashEmbedder({ dimensions: 24 }).embed(texts);
        },
      } as Embedder,
      batchSize: 100,
    });
    await store.close();
    await writer.close();
    expect(result.total).toBe(251);
    const after = open(path, 24);
    expect((await after.search('written during the re-embed', { mode: 'vector', limit: 1 }))[0]?.memory.content).toBe(
      'written during the re-embed',
    );
    await after.close();
  });

  it('engram reembed --embedder switches a store from the command line', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-reembed-cli-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const memory = open(path, 32);
    await memory.add({ content: 'command line re-embed' });
    await memory.close();
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
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(['reembed', '--embedder', 'hash-v1-48', '--path', path, '--json'], { stdout, stderr, env: {} });
    expect(code, stderr.text).toBe(0);
    expect(JSON.parse(stdout.text).to).toEqual({ id: 'hash-v1-48', dimensions: 48 });
    const reopened = open(path, 48);
    expect(await reopened.count()).toBe(1);
    await reopened.close();
  });
});
