// kill -9 in the middle of writing: every acknowledged write survives and the file stays intact.
// Runs the writer over the built packages (npm run build first; `npm test` does).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const writerScript = join(import.meta.dirname, 'support', 'writer.child.mjs');

/** A small seeded generator, so the kill times are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** Starts a writer, kills it with SIGKILL once it has acknowledged `killAfter` writes; answers how many it acknowledged. */
function writeUntilKilled(path: string, worker: number, killAfter: number): Promise<number> {
  const child = spawn(process.execPath, [writerScript, path, String(worker)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acknowledged = 0;
  let buffer = '';
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') continue;
        acknowledged = Number(line) + 1;
        if (acknowledged >= killAfter && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.once('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited on its own (${signal ?? _code})`));
      else resolve(acknowledged);
    });
  });
}

describe('crash safety (SQLite)', () => {
  it('keeps every acknowledged write through random kill -9, and the file passes integrity_check', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-crash-'));
    directories.push(directory);
    const path = join(directory, 'memory.db');
    const random = seeded(17);
    const acknowledged: number[] = [];
    for (let round = 0; round < 4; round++) {
      acknowledged.push(await writeUntilKilled(path, round, 50 + Math.floor(random() * 400)));

      const db = new Database(path, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions: 32 }), logger: false });
      for (let worker = 0; worker <= round; worker++) {
        const stored = await memory.list({ tags: [`w${worker}`], limit: 10_000 });
        const indexes = new Set(stored.items.map((record) => record.metadata.index as number));
        for (let index = 0; index < (acknowledged[worker] as number); index++)
          expect(indexes.has(index), `worker ${worker} note ${index}`).toBe(true);
        // At most the one write in flight at the kill went through unacknowledged.
        expect(indexes.size).toBeLessThanOrEqual((acknowledged[worker] as number) + 1);
      }
      expect((await memory.search('worker note topic', { limit: 3 })).length).toBeGreaterThan(0);
      await memory.close();
    }
  });
});
