import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory, type MemoryStore } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `MemoryStore.changesSince`: the store-wide change log by sequence number (memory history and
 * graph changes), which the REST server reads to stream other processes' writes and sync pushes from. Same behaviour on SQLite (two connections to one file)
 * and Postgres (PGlite), written through one Memory and read through another.
 */
const directory = mkdtempSync(join(tmpdir(), 'engram-change-log-'));
const pglite = await PGlite.create();
afterAll(async () => {
  await pglite.close();
  rmSync(directory, { recursive: true, force: true });
});

const backends: Array<{ name: string; create: () => MemoryStore }> = [
  { name: 'sqlite', create: () => sqliteStore({ path: join(directory, 'shared.db') }) },
  { name: 'postgres (PGlite)', create: () => postgresStore({ pglite, schema: 'change_log', vectors: false }) },
];

describe.each(backends)('changesSince on $name', ({ create }) => {
  it('pages every memory’s history in order, whichever connection wrote it', async () => {
    const writer = new Memory({ store: create(), embedder: hashEmbedder(), logger: false });
    const reader = new Memory({ store: create(), embedder: hashEmbedder(), logger: false });
    await writer.ready();
    await reader.ready();
    const changesSince = reader.store.changesSince?.bind(reader.store);
    if (!changesSince) throw new Error('the store has no change log');
    const start = (await changesSince(null, 0)).head;
    expect((await changesSince(null, 10)).entries).toEqual([]);

    const first = (await writer.add({ content: 'first change' })).memory;
    const second = (await writer.add({ content: 'second change' })).memory;
    await writer.update(first.id, { importance: 0.9 });
    await writer.resolve(second.id, first.id, { reason: 'newer' });
    await writer.delete(second.id);

    const page = await changesSince(start, 100);
    expect(page.entries.map((entry) => [entry.memoryId, entry.event])).toEqual([
      [first.id, 'created'],
      [second.id, 'created'],
      [first.id, 'updated'],
      // resolve writes the `contradicts` edge (symmetric: filed under the smaller id) before the supersession.
      [[first.id, second.id].sort()[0], 'relation:added'],
      [first.id, 'superseded'],
      [second.id, 'deleted'],
    ]);
    expect(page.head).toBe(page.entries.at(-1)?.seq);
    const sequence = page.entries.map((entry) => entry.seq);
    expect([...sequence].sort((a, b) => a - b)).toEqual(sequence);
    const added = page.entries[3];
    expect(added?.event === 'relation:added' && [added.relation.type, added.reason]).toEqual(['contradicts', null]);
    expect(page.entries[4]?.reason).toBe('newer');
    const paged = await changesSince(start, 2);
    expect(paged.entries.map((entry) => entry.seq)).toEqual(sequence.slice(0, 2));
    expect((await changesSince(sequence[2] as number, 100)).entries.map((entry) => entry.seq)).toEqual(sequence.slice(3));
    await writer.close();
    await reader.close();
  });
});
