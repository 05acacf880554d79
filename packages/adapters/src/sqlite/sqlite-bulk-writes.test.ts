import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, type MemoryFilter, type MemoryRecord, type MemoryStore } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tagBucketShift, taggedRowidsSql } from './sqlite-records.js';
import { sqliteStore } from './sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-bulk-'));
let counter = 0;
const tempPath = () => join(root, `bulk-${++counter}.db`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dimensions = 16;
const embedder = hashEmbedder({ dimensions });

async function openStore(path: string): Promise<MemoryStore> {
  const store = sqliteStore({ path });
  await store.open();
  await store.vectors?.open(dimensions);
  return store;
}

async function writeEmbedded(store: MemoryStore, records: MemoryRecord[]): Promise<void> {
  const vectors = (await embedder.embed(records.map((record) => record.content))) as Float32Array[];
  await store.write(records.map((record, index) => ({ record, vector: vectors[index] })));
}

/** Ids of what a list, a count, a lexical and a vector search find for `filter` (sorted). */
async function foundBy(store: MemoryStore, filter: MemoryFilter, query: string) {
  const listed = (await store.list(filter, { limit: 100 })).items.map((record) => record.id).sort();
  const counted = await store.count(filter);
  const lexical = ((await store.lexicalSearch?.(query, filter, 100)) ?? []).map((match) => match.id).sort();
  const [vector] = (await embedder.embed([query])) as Float32Array[];
  const nearest = ((await store.vectors?.search(vector as Float32Array, 100, filter)) ?? []).map((match) => match.id).sort();
  return { listed, counted, lexical, nearest };
}

/** A soft-deleted row at `rowid`, so that the store's next rows are numbered after it (rowids are max + 1). */
function skipRowidsTo(path: string, rowid: number): void {
  const db = new Database(path);
  db.prepare(
    `INSERT INTO memories (rowid, id, content, content_hash, type, tags, metadata, scope_key, importance, created_at, updated_at, deleted_at)
     VALUES (?, ?, 'placeholder', 'placeholder', 'observation', '[]', '{}', '["","",""]', 0.5, 0, 0, 0)`,
  ).run(rowid, `placeholder-${rowid}`);
  db.close();
}

describe('tags stored rowid-major (0015)', () => {
  it('filters by any and all tags across rowid buckets: list, count, lexical and vector search agree', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const early = [
      makeRecord({ content: 'kafka broker early alpha', tags: ['ops', 'kafka'] }),
      makeRecord({ content: 'kafka broker early beta', tags: ['ops'] }),
      makeRecord({ content: 'kafka broker early gamma', tags: ['kafka'] }),
    ];
    await writeEmbedded(store, early);
    await store.close();
    // The next rows land three buckets later, so a lookup has to visit several buckets.
    skipRowidsTo(path, 3 << tagBucketShift);
    const reopened = await openStore(path);
    const late = [
      makeRecord({ content: 'kafka broker late alpha', tags: ['kafka', 'ops'] }),
      makeRecord({ content: 'kafka broker late beta', tags: ['ops'] }),
      makeRecord({ content: 'kafka broker late delta', tags: ['other'] }),
    ];
    await writeEmbedded(reopened, late);
    const ids = (records: MemoryRecord[]) => records.map((record) => record.id).sort();

    const anyOps = await foundBy(reopened, { tags: { any: ['ops'] } }, 'kafka broker');
    const opsIds = ids([early[0], early[1], late[0], late[1]] as MemoryRecord[]);
    expect(anyOps).toEqual({ listed: opsIds, counted: 4, lexical: opsIds, nearest: opsIds });

    const allBoth = await foundBy(reopened, { tags: { all: ['kafka', 'ops'] } }, 'kafka broker');
    const bothIds = ids([early[0], late[0]] as MemoryRecord[]);
    expect(allBoth).toEqual({ listed: bothIds, counted: 2, lexical: bothIds, nearest: bothIds });

    // A tag change moves a memory in and out of a filter (the trigger rewrites its tag rows).
    await reopened.update(late[2]?.id as string, { tags: ['ops'], updatedAt: new Date() });
    await reopened.update(early[1]?.id as string, { tags: [], updatedAt: new Date() });
    expect((await foundBy(reopened, { tags: { any: ['ops'] } }, 'kafka broker')).listed).toEqual(
      ids([early[0], late[0], late[1], late[2]] as MemoryRecord[]),
    );
    await reopened.close();

    const db = new Database(path, { readonly: true });
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${taggedRowidsSql}`).all('["ops"]') as Array<{ detail: string }>;
    // New rows append: the table is keyed by rowid first.
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'memory_tags'").pluck().get() as string;
    db.close();
    expect(plan.map((step) => step.detail).join(' ')).toMatch(/USING COVERING INDEX memory_tags_tag/);
    expect(table).toMatch(/PRIMARY KEY \(memory_rowid, tag\)/);
  });

  it('upgrades a file with the tag-major table: every tag kept, filters and tag updates work after', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const records = [
      makeRecord({ content: 'deploy failed on friday', tags: ['deploy', 'incident'] }),
      makeRecord({ content: 'deploy went fine on monday', tags: ['deploy'] }),
      makeRecord({ content: 'incident review notes', tags: ['incident', 'review'] }),
    ];
    await writeEmbedded(store, records);
    await store.close();

    // Rewind to the layout before 0015: keyed (tag, memory_rowid), with an index on the rowid.
    const raw = new Database(path);
    raw.exec(`
      DROP TRIGGER memories_after_tags_update;
      CREATE TABLE old_tags (
        tag TEXT NOT NULL,
        memory_rowid INTEGER NOT NULL REFERENCES memories(rowid) ON DELETE CASCADE,
        PRIMARY KEY (tag, memory_rowid)
      ) WITHOUT ROWID;
      INSERT INTO old_tags SELECT tag, memory_rowid FROM memory_tags;
      DROP TABLE memory_tags;
      ALTER TABLE old_tags RENAME TO memory_tags;
      CREATE INDEX memory_tags_memory ON memory_tags(memory_rowid);
      CREATE TRIGGER memories_after_tags_update AFTER UPDATE OF tags ON memories BEGIN
        DELETE FROM memory_tags WHERE memory_rowid = old.rowid;
        INSERT OR IGNORE INTO memory_tags (tag, memory_rowid) SELECT value, new.rowid FROM json_each(new.tags);
      END;
      DELETE FROM engram_migration WHERE name = '0015-rowid-major-tags';
    `);
    const before = raw.prepare('SELECT tag, memory_rowid FROM memory_tags ORDER BY memory_rowid, tag').all();
    raw.close();

    const upgraded = await openStore(path);
    const ids = (list: Array<MemoryRecord | undefined>) => list.map((record) => record?.id as string).sort();
    expect((await foundBy(upgraded, { tags: { any: ['incident'] } }, 'deploy incident')).listed).toEqual(ids([records[0], records[2]]));
    expect(await upgraded.count({ tags: { all: ['deploy', 'incident'] } })).toBe(1);
    await upgraded.update(records[1]?.id as string, { tags: ['deploy', 'incident'], updatedAt: new Date() });
    expect(await upgraded.count({ tags: { all: ['deploy', 'incident'] } })).toBe(2);
    await upgraded.close();

    const check = new Database(path, { readonly: true });
    const after = check.prepare('SELECT tag, memory_rowid FROM memory_tags ORDER BY memory_rowid, tag').all();
    const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'memory_tags'").pluck().all();
    check.close();
    expect(after).toEqual([...before, { tag: 'incident', memory_rowid: 2 }].sort((a, b) => compareTags(a, b)));
    expect(indexes).toEqual(['memory_tags_tag']);
  });
});

function compareTags(a: unknown, b: unknown): number {
  const left = a as { tag: string; memory_rowid: number };
  const right = b as { tag: string; memory_rowid: number };
  return left.memory_rowid - right.memory_rowid || (left.tag < right.tag ? -1 : left.tag > right.tag ? 1 : 0);
}

/** The exact-duplicate entries (both tables) and the entries the live rows call for, each sorted. */
function hashEntries(path: string) {
  const db = new Database(path, { readonly: true });
  const entries = (table: string) =>
    db.prepare(`SELECT scope_key, hash_prefix, memory_rowid FROM ${table} ORDER BY memory_rowid`).raw(true).all() as unknown[][];
  const stored = { large: entries('memory_hashes'), recent: entries('memory_hashes_recent') };
  const expected = db
    .prepare('SELECT scope_key, substr(content_hash, 1, 16), rowid FROM memories WHERE deleted_at IS NULL ORDER BY rowid')
    .raw(true)
    .all();
  db.close();
  const all = [...stored.large, ...stored.recent].sort((a, b) => (a[2] as number) - (b[2] as number));
  return { ...stored, all, expected };
}

describe('exact-duplicate index in two tables (0016)', () => {
  it('holds one entry per live row through inserts, edits, deletes, restores and purges', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const records = Array.from({ length: 6 }, (_, index) => makeRecord({ content: `entry ${index}`, scope: { userId: `u${index % 2}` } }));
    await store.write(records.map((record) => ({ record })));
    // Imported as already deleted: no entry.
    await store.write([{ record: makeRecord({ content: 'imported tombstone', deletedAt: new Date() }) }]);
    await store.update(records[0]?.id as string, { content: 'entry zero edited', contentHash: 'a'.repeat(64), updatedAt: new Date() });
    await store.delete(records[1]?.id as string, new Date());
    await store.purge?.([records[2]?.id as string]);
    const raw = new Database(path);
    raw.prepare('UPDATE memories SET scope_key = ? WHERE id = ?').run('["moved","",""]', records[3]?.id);
    raw.prepare('UPDATE memories SET deleted_at = NULL WHERE id = ?').run(records[1]?.id);
    raw.close();
    await store.close();

    const { all, expected, large, recent } = hashEntries(path);
    expect(all).toEqual(expected);
    expect(expected).toHaveLength(5);
    expect(large).toEqual([]);
    expect(recent).toHaveLength(5);
    expect(all.find((entry) => entry[2] === 1)?.[1]).toBe('a'.repeat(16));
  });

  it('moves the recent entries into the large table once 32,768 collect, and keeps finding duplicates in both', async () => {
    const path = tempPath();
    const store = sqliteStore({ path });
    const first = makeRecord({ content: 'the very first memory', scope: { userId: 'u1' } });
    await store.write([{ record: first }]);
    for (let batch = 0; batch < 33; batch++) {
      await store.write(
        Array.from({ length: 1000 }, (_, index) => ({
          record: makeRecord({ content: `bulk ${batch} ${index}`, scope: { userId: 'u1' } }),
        })),
      );
    }
    const folded = hashEntries(path);
    expect(folded.all).toEqual(folded.expected);
    // The fold ran at the first check past the limit (every 1,000 memories a connection writes).
    expect(folded.large.length).toBeGreaterThanOrEqual(32_768);
    expect(folded.recent.length).toBeLessThan(1000);

    const late = makeRecord({ content: 'written after the fold', scope: { userId: 'u1' } });
    await store.write([{ record: late }]);
    const again = await store.write([
      { record: makeRecord({ content: 'The very first memory', scope: { userId: 'u1' } }) },
      { record: makeRecord({ content: 'WRITTEN after the fold', scope: { userId: 'u1' } }) },
      { record: makeRecord({ content: 'the very first memory', scope: { userId: 'u2' } }) },
    ]);
    expect(again.map((result) => [result.status, result.record.id])).toEqual([
      ['duplicate', first.id],
      ['duplicate', late.id],
      ['created', again[2]?.record.id],
    ]);
    expect((await store.findByHashes?.({ userId: 'u1' }, [first.contentHash, late.contentHash]))?.map((found) => found.id).sort()).toEqual(
      [first.id, late.id].sort(),
    );
    await store.close();
  });

  it('upgrades a file with the hash index on memories: entries for every live row, duplicates still found', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const kept = makeRecord({ content: 'kept from before', scope: { userId: 'u1' } });
    const gone = makeRecord({ content: 'deleted before', scope: { userId: 'u1' } });
    await store.write([{ record: kept }, { record: gone }]);
    await store.delete(gone.id, new Date());
    await store.close();

    // Rewind to the index of 0011.
    const raw = new Database(path);
    raw.exec(`
      DROP TRIGGER memory_hashes_after_insert;
      DROP TRIGGER memory_hashes_after_update;
      DROP TRIGGER memory_hashes_after_delete;
      DROP TABLE memory_hashes;
      DROP TABLE memory_hashes_recent;
      CREATE INDEX memories_scope_hash ON memories (scope_key, substr(content_hash, 1, 16)) WHERE deleted_at IS NULL;
      DELETE FROM engram_migration WHERE name = '0016-appending-hash-index';
    `);
    raw.close();

    const upgraded = await openStore(path);
    const [again] = await upgraded.write([{ record: makeRecord({ content: 'Kept from before', scope: { userId: 'u1' } }) }]);
    expect(again).toMatchObject({ status: 'duplicate', record: { id: kept.id } });
    await upgraded.close();
    const { all, expected, large } = hashEntries(path);
    expect(large).toHaveLength(1);
    expect(all).toEqual(expected);
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'memories_scope_hash'").get()).toBeUndefined();
    check.close();
  });
});
