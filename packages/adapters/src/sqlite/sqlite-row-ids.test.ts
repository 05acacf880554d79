import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord, seededVector } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-row-ids-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const rowidOf = (path: string, id: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT rowid FROM memories WHERE id = ?').pluck().get(id) as number | undefined;
  } finally {
    db.close();
  }
};

describe('ids of ranked rowids (remembered per connection)', () => {
  it('names the new memory when another connection erased a row and its rowid was given to another', async () => {
    const path = join(root, 'reuse.db');
    const reader = sqliteStore({ path });
    const writer = sqliteStore({ path });
    for (const store of [reader, writer]) {
      await store.open();
      await store.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
      await store.vectors?.open(16);
    }
    const kept = makeRecord({ content: 'a kept lighthouse note' });
    const erased = makeRecord({ content: 'an erased lighthouse note' });
    await writer.write([{ record: kept, vector: seededVector(1, 16) }]);
    await writer.write([{ record: erased, vector: seededVector(2, 16) }]);
    // The reader ranks both rows and remembers their ids.
    expect((await reader.lexicalSearch?.('lighthouse', {}, 5))?.map((match) => match.id).sort()).toEqual([kept.id, erased.id].sort());
    expect((await reader.vectors?.search(seededVector(2, 16), 2))?.map((match) => match.id)).toContain(erased.id);
    const erasedRowid = rowidOf(path, erased.id);

    // Another connection erases the last row; SQLite gives its rowid to the next insert.
    expect(await writer.purge?.([erased.id])).toBe(1);
    const successor = makeRecord({ content: 'a successor lighthouse note' });
    await writer.write([{ record: successor, vector: seededVector(2, 16) }]);
    expect(rowidOf(path, successor.id)).toBe(erasedRowid);

    const lexical = (await reader.lexicalSearch?.('lighthouse', {}, 5))?.map((match) => match.id);
    expect(lexical?.sort()).toEqual([kept.id, successor.id].sort());
    const vector = (await reader.vectors?.search(seededVector(2, 16), 2))?.map((match) => match.id);
    expect(vector?.[0]).toBe(successor.id);
    expect(vector).not.toContain(erased.id);
    await reader.close();
    await writer.close();
  });
});
