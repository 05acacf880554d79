// Searches' access statistics are written off the search path (after a pause in searching, or at
// close) and none are lost: two processes search one SQLite file, close, and the stored counts
// equal the hits they returned. Runs the children over the built packages (npm run build first).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashEmbedder } from '@engram/core';
import { Memory } from 'engram';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const searcherScript = join(import.meta.dirname, 'support', 'searcher.child.mjs');

describe('access statistics across processes (SQLite)', () => {
  it('stores, after close, exactly the hits two searching processes returned', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-access-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const seed = new Memory({ path, embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    await seed.addMany(Array.from({ length: 40 }, (_, index) => ({ content: `note ${index} about topic ${index % 7}` })));
    await seed.close();

    // One process writes between its searches too (a short interval), the other only at close.
    const children = await Promise.all(
      [
        ['60', '30'],
        ['60', '60000'],
      ].map(async ([count, interval]) => {
        const { stdout } = await run(process.execPath, [searcherScript, path, count as string, interval as string]);
        return JSON.parse(stdout) as Record<string, number>;
      }),
    );
    const expected = new Map<string, number>();
    for (const returned of children) for (const [id, count] of Object.entries(returned)) expected.set(id, (expected.get(id) ?? 0) + count);
    expect([...expected.values()].reduce((sum, count) => sum + count, 0)).toBe(2 * 60 * 3);

    const reader = new Memory({ path, embedder: hashEmbedder({ dimensions: 32 }), logger: false });
    const { items } = await reader.list({ limit: 100 });
    const stored = new Map(items.filter((item) => item.accessCount > 0).map((item) => [item.id, item.accessCount]));
    expect(stored).toEqual(expected);
    await reader.close();
  }, 60_000);
});
