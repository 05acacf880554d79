import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosineSimilarity, diffRecords, hashEmbedder, type MemoryStore, ValidationError } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { hashedRowidsSql, hashPrefix } from './sqlite-records.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFile } from './sqlite-snapshot.js';
import { sqliteStore } from './sqlite-store.js';
import { decodeStoredVector, encodeStoredVector } from './sqlite-vector-storage.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-storage-'));
let counter = 0;
const tempPath = () => join(root, `storage-${++counter}.db`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dimensions = 384;
const embedder = hashEmbedder({ dimensions });

async function openStore(path: string): Promise<MemoryStore> {
  const store = sqliteStore({ path });
  await store.open();
  await store.vectors?.open(dimensions);
  return store;
}

async function embed(texts: string[]): Promise<Float32Array[]> {
  return (await embedder.embed(texts)) as Float32Array[];
}

describe('int8 vectors on disk', () => {
  it('stores each vector as a float32 scale and one byte a dimension, and ranks with them', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const texts = Array.from(
      { length: 200 },
      (_, index) => `note ${index} about ${['deploys', 'tests', 'schemas', 'queues'][index % 4]} and ${index % 7}`,
    );
    const vectors = await embed(texts);
    const records = texts.map((content) => makeRecord({ content }));
    await store.write(records.map((record, index) => ({ record, vector: vectors[index] as Float32Array })));
    const [query] = await embed(['deploys and 3']);
    const matches = (await store.vectors?.search(query as Float32Array, 10)) ?? [];
    await store.close();

    const db = new Database(path, { readonly: true });
    const lengths = db.prepare('SELECT DISTINCT length(vector) FROM memory_embeddings').pluck().all();
    db.close();
    expect(lengths).toEqual([dimensions + 4]);
    // Each similarity is within 1e-3 of the float32 one, and the order is the float32 order.
    const floatSimilarity = new Map(
      records.map((record, index) => [record.id, cosineSimilarity(query as Float32Array, vectors[index] as Float32Array)]),
    );
    for (const match of matches) expect(Math.abs(match.similarity - (floatSimilarity.get(match.id) as number))).toBeLessThan(1e-3);
    const floatTop = [...floatSimilarity.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    expect(matches.map((match) => match.id)).toEqual(floatTop.map(([id]) => id));
  });

  it('round-trips within half a step of the scale, and keeps zero vectors at zero', () => {
    const vector = new Float32Array([0.5, -0.25, 0.125, 0, -0.5, 0.3]);
    const decoded = decodeStoredVector(encodeStoredVector(vector), vector.length) as Float32Array;
    for (let index = 0; index < vector.length; index++) {
      expect(Math.abs((decoded[index] as number) - (vector[index] as number))).toBeLessThanOrEqual(0.5 / 127 / 2 + 1e-7);
    }
    expect(Array.from(decodeStoredVector(encodeStoredVector(new Float32Array(4)), 4) as Float32Array)).toEqual([0, 0, 0, 0]);
  });

  it('stores a vector of whole multiples of one unit (counts) exactly, and hash embeddings within 1e-3', async () => {
    const unit = 0.0371;
    const counts = new Float32Array([6, -5, 4, 0, 3, -2, 1, 0].map((count) => count * unit));
    const decoded = decodeStoredVector(encodeStoredVector(counts), counts.length) as Float32Array;
    for (let index = 0; index < counts.length; index++) expect(decoded[index]).toBeCloseTo(counts[index] as number, 6);
    for (const vector of await embed(['counts of words', 'words words words and more words', 'a b c d e f g a b c'])) {
      expect(cosineSimilarity(vector, decodeStoredVector(encodeStoredVector(vector), dimensions) as Float32Array)).toBeGreaterThan(0.999);
    }
  });

  it('rejects a vector with a non-finite value, naming the field and the index, and writes nothing', async () => {
    const store = await openStore(tempPath());
    const vector = (await embed(['finite']))[0] as Float32Array;
    vector[7] = Number.NaN;
    const record = makeRecord({ content: 'not finite' });
    const error = await store.write([{ record, vector }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(String((error as Error).message)).toMatch(new RegExp(`vector of ${record.id}.*index 7`));
    expect(await store.get([record.id])).toEqual([]);
    await store.close();
  });

  it('migration 0010 rewrites the float32 vectors of an existing file, which stays searchable', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const texts = Array.from({ length: 50 }, (_, index) => `legacy vector ${index} ${index % 3 === 0 ? 'alpha' : 'beta'}`);
    const vectors = await embed(texts);
    const records = texts.map((content) => makeRecord({ content }));
    await store.write(records.map((record, index) => ({ record, vector: vectors[index] as Float32Array })));
    await store.close();

    // Rewind: the float32 blobs of the layout before 0010.
    const raw = new Database(path);
    const put = raw.prepare('UPDATE memory_embeddings SET vector = ? WHERE rowid = (SELECT rowid FROM memories WHERE id = ?)');
    records.forEach((record, index) => {
      const vector = vectors[index] as Float32Array;
      put.run(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), record.id);
    });
    raw.prepare("DELETE FROM engram_migration WHERE name = '0010-int8-vectors'").run();
    expect(raw.prepare('SELECT DISTINCT length(vector) FROM memory_embeddings').pluck().all()).toEqual([dimensions * 4]);
    raw.close();

    const upgraded = await openStore(path);
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT DISTINCT length(vector) FROM memory_embeddings').pluck().all()).toEqual([dimensions + 4]);
    check.close();
    const [match] = (await upgraded.vectors?.search(vectors[17] as Float32Array, 1)) ?? [];
    expect(match?.id).toBe(records[17]?.id);
    expect(match?.similarity).toBeCloseTo(1, 3);
    await upgraded.close();
  });
});

describe('history storage', () => {
  it('never reuses a sequence number: a write after purging the newest entries is seen by a cursor past them', async () => {
    const store = await openStore(tempPath());
    const [kept, erased] = [makeRecord({ content: 'kept' }), makeRecord({ content: 'erased soon' })];
    await store.write([{ record: kept }, { record: erased }]);
    const head = (await store.changesSince?.(0, 100))?.head as number;
    expect(head).toBeGreaterThanOrEqual(2);
    await store.purge?.([erased.id]);
    const later = makeRecord({ content: 'written after the purge' });
    await store.write([{ record: later }]);
    const page = await store.changesSince?.(head, 100);
    expect(page?.entries.map((entry) => entry.memoryId)).toEqual([later.id]);
    expect(page?.entries[0]?.seq).toBeGreaterThan(head);
    await store.close();
  });

  it('migration 0011 rebuilds an existing log with AUTOINCREMENT and keeps every entry', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const record = makeRecord({ content: 'before the rebuild' });
    await store.write([{ record }]);
    await store.update(record.id, { content: 'edited', contentHash: 'h-edited', updatedAt: new Date() });
    const history = await store.history(record.id);
    await store.close();

    // Rewind to the log of 0001 (no AUTOINCREMENT, every entry written out).
    const raw = new Database(path);
    raw.exec(`
      DROP TRIGGER memory_history_created_kept;
      DROP TRIGGER memory_history_created_kept_on_delete;
      UPDATE memory_history SET changes = '{}' WHERE changes IS NULL;
      CREATE TABLE old_history (seq INTEGER PRIMARY KEY, memory_id TEXT NOT NULL, event TEXT NOT NULL, at INTEGER NOT NULL, changes TEXT NOT NULL, reason TEXT);
      INSERT INTO old_history SELECT * FROM memory_history;
      DROP TABLE memory_history;
      ALTER TABLE old_history RENAME TO memory_history;
      CREATE INDEX memory_history_memory ON memory_history(memory_id, seq);
      DELETE FROM sqlite_sequence WHERE name = 'memory_history';
      DELETE FROM engram_migration WHERE name = '0011-compact-rows';
    `);
    raw.close();

    const upgraded = await openStore(path);
    const rebuilt = await upgraded.history(record.id);
    expect(rebuilt.map((entry) => entry.event)).toEqual(history.map((entry) => entry.event));
    expect(rebuilt[1]).toEqual(history[1]);
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'memory_history'").pluck().get()).toMatch(/AUTOINCREMENT/);
    expect(check.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'memory_history'").pluck().get()).toBe(2);
    check.close();
    await upgraded.close();
  });

  it('finds exact duplicates through the 16-character hash prefix index, comparing the whole hash', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const record = makeRecord({ content: 'same words', scope: { userId: 'u1' } });
    await store.write([{ record }]);
    // Same prefix, other hash: not a duplicate.
    const lookalike = makeRecord({ content: 'other words', scope: { userId: 'u1' } });
    lookalike.contentHash = `${record.contentHash.slice(0, 16)}${'0'.repeat(48)}`;
    const [first, second] = await store.write([
      { record: lookalike },
      { record: makeRecord({ content: 'Same  WORDS', scope: { userId: 'u1' } }) },
    ]);
    expect(first?.status).toBe('created');
    expect(second).toMatchObject({ status: 'duplicate', record: { id: record.id } });
    expect((await store.findByHashes?.({ userId: 'u1' }, [lookalike.contentHash]))?.map((found) => found.id)).toEqual([lookalike.id]);
    await store.close();
    const db = new Database(path, { readonly: true });
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT rowid FROM memories WHERE rowid IN (${hashedRowidsSql(`= ${hashPrefix('?')}`)}) AND content_hash = ? AND deleted_at IS NULL`,
      )
      .all('s', 'h', 's', 'h', 'h') as Array<{ detail: string }>;
    db.close();
    const steps = plan.map((step) => step.detail).join(' ');
    expect(steps).toMatch(/SEARCH memory_hashes USING PRIMARY KEY \(scope_key=\? AND hash_prefix=\?\)/);
    expect(steps).toMatch(/SEARCH memory_hashes_recent USING PRIMARY KEY \(scope_key=\? AND hash_prefix=\?\)/);
  });

  it('keeps no copy of a new record in its created entry until the row changes, and reconstructs every version', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const record = makeRecord({ content: 'first words', tags: ['a'], metadata: { n: 1 } });
    await store.write([{ record }]);
    const created = diffRecords(null, record);
    const stored = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT changes FROM memory_history WHERE memory_id = ? AND event = 'created'").pluck().get(record.id);
      } finally {
        db.close();
      }
    };
    expect(stored()).toBeNull();
    expect((await store.history(record.id))[0]?.changes).toEqual(created);
    expect((await store.changesSince?.(0, 10))?.entries[0]).toMatchObject({ event: 'created', changes: created });

    // The first change of a recorded column copies the row as it was into the entry.
    await store.setDerivedContexts?.([{ id: record.id, context: 'derived context' }]);
    expect(JSON.parse(stored() as string)).toHaveProperty(['engram:row', 'content'], 'first words');
    expect((await store.history(record.id))[0]?.changes).toEqual(created);
    await store.update(record.id, { content: 'second words', contentHash: 'h2', tags: ['b'], updatedAt: new Date() });
    await store.delete(record.id, new Date());
    const history = await store.history(record.id);
    expect(history.map((entry) => entry.event)).toEqual(['created', 'updated', 'deleted']);
    expect(history[0]?.changes).toEqual(created);
    expect(history[1]?.changes.content).toEqual({ from: 'first words', to: 'second words' });

    const other = makeRecord({ content: 'rewrapped later' });
    await store.write([{ record: other }]);
    await store.rewrapContent?.(other.id, { content: 'rewrapped envelope' });
    expect((await store.history(other.id))[0]?.changes).toEqual(diffRecords(null, other));
    await store.close();

    // A write from outside the store (raw SQL, an older engram) keeps the created version too.
    const third = makeRecord({ content: 'written by the store' });
    const again = await openStore(path);
    await again.write([{ record: third }]);
    await again.close();
    const raw = new Database(path);
    raw.prepare("UPDATE memories SET content = 'changed behind its back' WHERE id = ?").run(third.id);
    raw.prepare('UPDATE memories SET access_count = 5 WHERE id = ?').run(third.id);
    raw.close();
    const reopened = await openStore(path);
    expect((await reopened.history(third.id))[0]?.changes).toEqual(diffRecords(null, third));
    expect((await reopened.get([third.id]))[0]?.content).toBe('changed behind its back');
    await reopened.close();
  });
});

describe('snapshot arrays in their narrowest exact kind', () => {
  const arrays = {
    frequencies: new Float32Array([1, 2, 3, 255]),
    lengths: new Float32Array([12, 300, 65535]),
    weighted: new Float32Array([1, 0.5]),
    rowids: new Float64Array([1, 2, 2_000_000_000]),
    createdAt: new Float64Array([1_733_000_000_000, Number.NaN]),
    negativeZero: new Float64Array([0, -0]),
    ids: new Int32Array([0, 7, 19]),
    slots: new Int32Array([5, 70_000, -1]),
    postings: new Int32Array([5, 70_000, 16_000_000]),
    validTo: new Float64Array([Number.NaN, Number.NaN, Number.NaN]),
    sameIds: new Int32Array([4, 4]),
    mask: new Uint8Array([0, 1, 2]),
  };
  const storedKinds = (buffer: Buffer) => {
    const length = buffer.readUInt32LE(4);
    const entries = (JSON.parse(buffer.subarray(8, 8 + length).toString('utf8')) as { arrays: Array<[string, string]> }).arrays;
    return Object.fromEntries(entries.map(([name, kind]) => [name, kind]));
  };

  it('stores whole numbers in fewer bytes and reads back the kind and values that were saved', () => {
    const buffer = encodeSnapshot({ note: 'narrow' }, arrays);
    expect(storedKinds(buffer)).toEqual({
      frequencies: 'u8',
      lengths: 'u16',
      weighted: 'f32',
      rowids: 'i32',
      createdAt: 'f64',
      negativeZero: 'f64',
      ids: 'u8',
      slots: 'i32',
      postings: 'u24',
      validTo: 'fill',
      sameIds: 'fill',
      mask: 'u8',
    });
    const decoded = decodeSnapshot(buffer);
    expect(decoded.header).toEqual({ note: 'narrow' });
    for (const [name, array] of Object.entries(arrays)) {
      expect(decoded.arrays[name]?.constructor, name).toBe(array.constructor);
      expect(Array.from(decoded.arrays[name] as Float64Array), name).toEqual(Array.from(array));
    }
    expect(Object.is(decoded.arrays.negativeZero?.[1], -0)).toBe(true);

    const path = join(root, `narrow-${++counter}.snapshot`);
    writeFileSync(path, buffer);
    const file = SnapshotFile.open(path);
    try {
      expect(file.read('frequencies', 1, 3)).toEqual(new Float32Array([2, 3]));
      expect(file.read('postings', 1)).toEqual(new Int32Array([70_000, 16_000_000]));
      expect(Array.from(file.read('validTo', 0, 2))).toEqual([Number.NaN, Number.NaN]);
      const target = new Float64Array(2);
      file.readInto('rowids', target, 1);
      expect(Array.from(target)).toEqual([2, 2_000_000_000]);
      expect(() => file.readInto('rowids', new Int32Array(1))).toThrow(/out of range/);
    } finally {
      file.close();
    }
  });

  it('reads whole-number columns in the width they were stored in, with room to grow', () => {
    const columns = {
      user: new Int32Array([0, 7, 255]),
      type: new Int32Array([3, 300, 65_535]),
      run: new Int32Array([1, 70_000, 16_000_000]),
      agent: new Int32Array([0, -1, 2_000_000_000]),
      subtype: new Int32Array([0, 0, 0]),
      conversation: new Int32Array([9, 9, 9]),
      wide: new Int32Array([4, 4, 70_000]),
      rowids: new Float64Array([1, 70_000, 16_000_000]),
    };
    const path = join(root, `columns-${++counter}.snapshot`);
    writeFileSync(path, encodeSnapshot({}, columns));
    const file = SnapshotFile.open(path);
    try {
      const expectNarrow = (name: keyof typeof columns, kind: new (length: number) => unknown) => {
        const read = file.readNarrow(name, 5);
        expect(read.constructor, name).toBe(kind);
        expect(Array.from(read), name).toEqual([...Array.from(columns[name]), 0, 0]);
      };
      expectNarrow('user', Uint8Array);
      expectNarrow('type', Uint16Array);
      expectNarrow('run', Int32Array);
      expectNarrow('agent', Int32Array);
      expectNarrow('subtype', Uint8Array);
      expectNarrow('conversation', Uint8Array);
      expectNarrow('wide', Int32Array);
      expect(() => file.readNarrow('rowids', 5)).toThrow(/not whole numbers/);
      expect(() => file.readNarrow('user', 2)).toThrow(/not whole numbers/);
      // Three bytes a rowid, read straight into a Float64Array.
      expect(Array.from(file.read('rowids'))).toEqual([1, 70_000, 16_000_000]);
    } finally {
      file.close();
    }
  });

  it('reads an array in the background, and closes the file only after the reads in flight', async () => {
    const codes = new Uint8Array(3 * 1024 * 1024).map((_, index) => (index * 31) % 251);
    const path = join(root, `background-${++counter}.snapshot`);
    writeFileSync(path, encodeSnapshot({}, { codes, small: new Uint8Array([1, 2, 3]), ids: new Int32Array([0, 1, 700]) }));
    const file = SnapshotFile.open(path);
    const target = new Uint8Array(codes.length);
    const reading = file.readIntoInBackground('codes', target);
    // Closed while the read is in flight: it still completes, and synchronous reads still work until then.
    file.close();
    expect(Array.from(file.read('small'))).toEqual([1, 2, 3]);
    await reading;
    expect(Buffer.from(target).equals(Buffer.from(codes))).toBe(true);
    expect(() => file.read('small')).toThrow(/closed/);
    await expect(file.readIntoInBackground('codes', target)).rejects.toThrow(/closed/);

    const again = SnapshotFile.open(path);
    try {
      // Only whole arrays stored as they are read go to the background (no widening there).
      await expect(again.readIntoInBackground('ids', new Int32Array(3))).rejects.toThrow(/whole array/);
      await expect(again.readIntoInBackground('codes', new Uint8Array(10))).rejects.toThrow(/whole array/);
    } finally {
      again.close();
    }
    // A file cut short after it was opened (truncated in place): the read rejects.
    const cut = SnapshotFile.open(path);
    writeFileSync(path, readFileSync(path).subarray(0, 2 * 1024 * 1024));
    await expect(cut.readIntoInBackground('codes', target)).rejects.toThrow(/truncated/);
    cut.close();
  });
});
