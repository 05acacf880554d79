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
