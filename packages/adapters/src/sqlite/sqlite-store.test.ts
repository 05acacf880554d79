import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError, EngramError, type MemoryStore, ValidationError } from '@engram/core';
import { makeRecord, runStoreConformance, runVectorIndexConformance, seededVector } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { sqliteStore } from './index.js';
import { LexicalIndex } from './sqlite-lexical-index.js';
import { migrations, migrationTableName } from './sqlite-migrations.js';
import { VectorCache } from './sqlite-vector-cache.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-store-'));
let counter = 0;
const tempPath = () => join(root, `store-${++counter}`, 'memory.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Every test gets a fresh file, so WAL, mmap and file locking are exercised as in production.
runStoreConformance({ name: 'sqlite (file)', create: () => sqliteStore({ path: tempPath() }) });
runStoreConformance({ name: 'sqlite (:memory:)', create: () => sqliteStore({ path: ':memory:' }) });

runVectorIndexConformance({
  name: 'sqlite-vec',
  create: () => sqliteStore({ path: ':memory:' }).vectors as NonNullable<MemoryStore['vectors']>,
  skip:
    'the sqlite-vec index lives inside the SQLite store and reads filterable fields from the memory rows; ' +
    'it indexes vectors of stored memories only (the store suite above covers it), not free-standing payloads',
});

/** The head of the change log the in-memory indexes follow: anything they must re-index moves it. */
function logHead(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  } finally {
    db.close();
  }
}

describe('sqlite store specifics', () => {
  it('keeps records, embedder, vectors and the text index when a file is reopened', async () => {
    const path = tempPath();
    const first = sqliteStore({ path });
    await first.open();
    await first.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
    await first.vectors?.open(16);
    const record = makeRecord({ content: 'persisted across reopen', tags: ['durable'], metadata: { a: 1 } });
    await first.write([{ record, vector: seededVector(1, 16) }]);
    await first.close();

    const second = sqliteStore({ path });
    await second.open();
    expect(await second.getEmbedder()).toEqual({ id: 'hash-v1-16', dimensions: 16 });
    await second.vectors?.open(16);
    await expect(second.vectors?.open(32)).rejects.toThrow(/16-dimensional vectors, not 32/);
    expect(await second.get([record.id])).toEqual([record]);
    expect((await second.lexicalSearch?.('persisted', {}, 5))?.map((match) => match.id)).toEqual([record.id]);
    expect((await second.vectors?.search(seededVector(1, 16), 1))?.[0]?.id).toBe(record.id);
    const [duplicate] = await second.write([{ record: makeRecord({ content: 'Persisted   across REOPEN' }) }]);
    expect(duplicate?.status).toBe('duplicate');
    await second.close();
  });

  it('recordAccess and importance changes never make the search indexes re-index', async () => {
    const path = tempPath();
    const store = sqliteStore({ path });
    await store.open();
    const records = Array.from({ length: 20 }, (_, index) => makeRecord({ content: `access counted ${index}` }));
    await store.write(records.map((record) => ({ record })));
    const before = logHead(path);
    await store.recordAccess(
      records.flatMap((record) => [record.id, record.id]),
      new Date(),
    );
    expect(logHead(path)).toBe(before);
    expect((await store.get([records[0]?.id as string]))[0]?.accessCount).toBe(2);
    await store.update(records[0]?.id as string, { importance: 0.1, updatedAt: new Date() });
    expect(logHead(path)).toBe(before);
    await store.update(records[0]?.id as string, { content: 'changed text', updatedAt: new Date() });
    expect(logHead(path)).not.toBe(before);
    await store.close();
  });

  it('keeps the lexical index exactly equal to the live rows, incrementally and on reopen', async () => {
    const path = tempPath();
    const store = sqliteStore({ path });
    await store.open();
    const vectors = store.vectors as NonNullable<MemoryStore['vectors']>;
    await vectors.open(8);
    const records = Array.from({ length: 30 }, (_, index) =>
      makeRecord({ content: `integrity ${index}`, tags: [`t${index % 3}`], key: `k${index}` }),
    );
    await store.write(records.map((record) => ({ record })));
    for (const [index, record] of records.entries()) {
      if (index % 3 === 0) await store.delete(record.id, new Date());
      if (index % 3 === 1) await store.update(record.id, { content: `rewritten ${index}`, tags: ['new'], updatedAt: new Date() });
      if (index % 5 === 0) await store.recordAccess([record.id], new Date());
    }
    await store.lexicalSearch?.('integrity', {}, 1);
    await store.write([{ record: makeRecord({ content: 'keyed rewrite', key: 'k2' }) }]);
    const incremental = await store.lexicalSearch?.('integrity rewritten keyed', {}, 100);
    await store.close();
    const reopened = sqliteStore({ path });
    const loaded = await reopened.lexicalSearch?.('integrity rewritten keyed', {}, 100);
    expect(incremental).toHaveLength(20);
    expect(loaded).toEqual(incremental);
    const db = new Database(path, { readonly: true });
    const live = db.prepare('SELECT id FROM memories WHERE deleted_at IS NULL').pluck().all() as string[];
    expect(new Set(loaded?.map((match) => match.id))).toEqual(new Set(live));
    db.close();
    await reopened.close();
  });

  it('validates options and does no I/O before open', async () => {
    expect(() => sqliteStore({})).toThrow(ValidationError);
    expect(() => sqliteStore({ path: ':memory:', database: new Database(':memory:') })).toThrow(/not both/);
    expect(() => sqliteStore({ path: ':memory:', busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    const path = join(root, 'lazy', 'nested', 'memory.db');
    const store = sqliteStore({ path });
    expect(existsSync(join(root, 'lazy'))).toBe(false);
    expect(store.location).toBe(path);
    await Promise.all([store.open(), store.open(), store.count({})]);
    expect(existsSync(path)).toBe(true);
    await store.close();
  });

  it('uses a given database without closing it', async () => {
    const database = new Database(join(root, `given-${++counter}.db`));
    const store = sqliteStore({ database });
    await store.open();
    await store.write([{ record: makeRecord({ content: 'in a given database' }) }]);
    await store.close();
    expect(database.open).toBe(true);
    expect((database.pragma('journal_mode', { simple: true }) as string).toLowerCase()).toBe('wal');
    // No memory-mapped reads: another process's commit would drop the whole mapping (sqlite-connection.ts).
    expect(database.pragma('mmap_size', { simple: true })).toBe(0);
    expect((database.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n).toBe(1);
    database.close();
  });

  it("runs each search's reads in one read transaction (not one per statement)", async () => {
    const database = new Database(join(root, `one-transaction-${++counter}.db`));
    const store = sqliteStore({ database });
    await store.open();
    const vectors = store.vectors as NonNullable<MemoryStore['vectors']>;
    await vectors.open(8);
    const records = Array.from({ length: 30 }, (_, index) => makeRecord({ content: `pelican harbour note ${index}` }));
    await store.write(records.map((record, index) => ({ record, vector: seededVector(index, 8) })));
    const { lexicalSearch, getRankingFields } = store;
    if (!lexicalSearch || !getRankingFields) throw new Error('the SQLite store has lexical search and ranking fields');
    // Loads the mirrors (their first load may run outside a search's transaction).
    await lexicalSearch.call(store, 'pelican', {}, 5);
    await vectors.search(seededVector(1, 8), 5);
    const statement = Object.getPrototypeOf(database.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
    const original = { get: statement.get, all: statement.all, iterate: statement.iterate } as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    const outside: string[] = [];
    let statements = 0;
    for (const name of Object.keys(original)) {
      statement[name] = function (this: { database: Database.Database; source: string }, ...args: unknown[]) {
        if (this.database === database) {
          statements += 1;
          if (!database.inTransaction) outside.push(this.source);
        }
        return (original[name] as (...args: unknown[]) => unknown).apply(this, args);
      };
    }
    try {
      const lexical = await lexicalSearch.call(store, 'pelican harbour', {}, 10);
      const nearest = await vectors.search(seededVector(2, 8), 10);
      await getRankingFields.call(
        store,
        lexical.map((match) => match.id),
      );
      expect(lexical.length).toBeGreaterThan(0);
      expect(nearest.length).toBeGreaterThan(0);
    } finally {
      Object.assign(statement, original);
    }
    expect(statements).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    await store.close();
    database.close();
  });

  it('refuses calls after close, and reopens on open()', async () => {
    const store = sqliteStore({ path: tempPath() });
    await store.open();
    await store.close();
    await store.close();
    const error = await store.count({}).catch((caught: unknown) => caught);
    expect(EngramError.isInstance(error) && error.code === 'CLOSED').toBe(true);
    await store.open();
    expect(await store.count({})).toBe(0);
    await store.close();
  });

  it('wraps driver errors in AdapterError naming the operation', async () => {
    const store = sqliteStore({ path: ':memory:' });
    await store.open();
    const record = makeRecord({ content: 'first' });
    await store.write([{ record }]);
    const error = await store
      .write([{ record: { ...record, content: 'same id, other text', contentHash: 'other' } }])
      .catch((caught: unknown) => caught);
    expect(AdapterError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ adapter: 'sqlite', operation: 'write' });
    expect((error as Error).message).toMatch(/UNIQUE constraint failed: memories\.id/);
    expect(await store.count({})).toBe(1);
    await store.close();
  });

  it('waits out another connection holding the write lock instead of failing', async () => {
    const path = tempPath();
    const store = sqliteStore({ path, busyTimeoutMs: 10 });
    await store.open();
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    // better-sqlite3 blocks the thread while SQLite waits, so release from a timer that runs
    // while the store sleeps between retries.
    setTimeout(() => other.exec('COMMIT'), 30);
    const record = makeRecord({ content: 'written after the lock was released' });
    const [result] = await store.write([{ record }]);
    expect(result?.status).toBe('created');
    other.close();
    await store.close();
  });

  it('migrates through Kysely once, into its own bookkeeping tables', async () => {
    const path = tempPath();
    for (let round = 0; round < 2; round++) {
      const store = sqliteStore({ path });
      await store.open();
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT name FROM engram_migration ORDER BY name').all()).toEqual([
      { name: '0001-initial' },
      { name: '0002-context' },
      { name: '0003-vector-codes' },
      { name: '0004-lexical-index' },
      { name: '0005-decay-score' },
      { name: '0009-vector-collections' },
      { name: '0010-int8-vectors' },
      { name: '0011-compact-rows' },
      { name: '0013-access-statistics' },
      { name: '0015-rowid-major-tags' },
      { name: '0016-appending-hash-index' },
      { name: '0017-erasure-log' },
      { name: '0018-change-log-horizon' },
    ]);
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").all() as Array<{ name: string }>
    ).map((row) => row.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'memories',
        'memory_tags',
        'memory_relations',
        'memory_history',
        'engram_meta',
        'memory_embeddings',
        'memory_vector_log',
        'memory_access',
      ]),
    );
    expect(tables).not.toContain('kysely_migration');
    // Codes are computed from the stored vectors since 0010 (the snapshot keeps them).
    expect(tables).not.toContain('memory_vector_codes');
    expect(tables).not.toContain('memories_fts');
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('applies scope and tag filters inside the lexical search, before the limit', async () => {
    const store = sqliteStore({ path: ':memory:' });
    await store.open();
    const noise = Array.from({ length: 200 }, (_, index) =>
      makeRecord({ content: `kafka kafka lag ${index}`, scope: { userId: 'noisy' } }),
    );
    const target = makeRecord({ content: 'kafka mentioned once among other words', scope: { userId: 'quiet' }, tags: ['ops'] });
    await store.write([...noise, target].map((record) => ({ record })));
    expect(
      (await store.lexicalSearch?.('kafka', { scope: { userId: 'quiet' }, tags: { any: ['ops'] } }, 1))?.map((match) => match.id),
    ).toEqual([target.id]);
    await store.close();
  });

  it('upgrades a 0001 file: existing rows stay searchable and gain a context column', async () => {
    const path = tempPath();
    {
      const store = sqliteStore({ path });
      await store.open();
      await store.close();
    }
    // Rebuild the file as the 0001 schema left it, with one row written by that version.
    rmSync(path);
    for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    const db = new Database(path);
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: db }) });
    const first = { '0001-initial': migrations['0001-initial'] as NonNullable<(typeof migrations)[string]> };
    const { error } = await new Migrator({
      db: kysely,
      provider: { getMigrations: async () => first },
      migrationTableName,
      migrationLockTableName: 'engram_migration_lock',
    }).migrateToLatest();
    expect(error).toBeUndefined();
    const old = makeRecord({ content: 'written before contexts existed' });
    db.prepare(
      `INSERT INTO memories (id, content, content_hash, type, tags, metadata, scope_key, importance, created_at, updated_at)
       VALUES (?, ?, ?, 'observation', '[]', '{}', '{}', 0.5, ?, ?)`,
    ).run(old.id, old.content, old.contentHash, old.createdAt.getTime(), old.updatedAt.getTime());
    await kysely.destroy();

    const store = sqliteStore({ path });
    await store.open();
    const lexical = (query: string) => store.lexicalSearch?.(query, {}, 5).then((matches) => matches.map((match) => match.id));
    expect(await lexical('contexts')).toEqual([old.id]);
    const added = makeRecord({ content: 'the answer is forty-two', context: 'what is the meaning of life' });
    await store.write([{ record: added }]);
    expect(await lexical('meaning of life')).toEqual([added.id]);
    expect((await store.get([old.id]))[0]).not.toHaveProperty('context');
    await store.close();
    const check = new Database(path);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'memories_fts%'").all()).toEqual([]);
    check.close();
  });

  it('weighs context below content, as configured', async () => {
    const ranking = async (contextWeight: number) => {
      const store = sqliteStore({ path: ':memory:', contextWeight });
      await store.open();
      const inContent = makeRecord({ content: 'the harbour freezes in winter', context: 'boats and ropes' });
      const inContext = makeRecord({ content: 'boats and ropes', context: 'the harbour freezes in winter' });
      const fillers = ['tides and moons', 'a quiet deck', 'gulls at dawn'].map((content) => ({ record: makeRecord({ content }) }));
      await store.write([{ record: inContent }, { record: inContext }, ...fillers]);
      const matches = (await store.lexicalSearch?.('harbour winter', {}, 5)) ?? [];
      await store.close();
      return { matches, inContent: inContent.id, inContext: inContext.id };
    };
    const weighted = await ranking(0.5);
    expect(weighted.matches.map((match) => match.id)).toEqual([weighted.inContent, weighted.inContext]);
    const ignored = await ranking(0);
    expect(ignored.matches[0]?.id).toBe(ignored.inContent);
    expect(() => sqliteStore({ path: ':memory:', contextWeight: 2 })).toThrow(ValidationError);
  });
});

describe('access statistics (migration 0013: the narrow memory_access table)', () => {
  it('keep the counts an older file wrote into its rows, add those recorded since, and start afresh on a reused rowid', async () => {
    const path = tempPath();
    const first = sqliteStore({ path });
    await first.open();
    const old = makeRecord({ content: 'read often before the upgrade', accessCount: 5, lastAccessedAt: new Date(Date.UTC(2026, 0, 1)) });
    await first.write([{ record: old }]);
    await first.close();
    // A file from before 0013: no memory_access, counts updated in the rows themselves.
    const raw = new Database(path);
    raw.exec("DROP TABLE memory_access; DELETE FROM engram_migration WHERE name = '0013-access-statistics'");
    raw.prepare('UPDATE memories SET access_count = 9 WHERE id = ?').run(old.id);
    raw.close();

    const store = sqliteStore({ path });
    await store.open();
    expect((await store.get([old.id]))[0]).toMatchObject({ accessCount: 9, lastAccessedAt: new Date(Date.UTC(2026, 0, 1)) });
    const at = new Date(Date.UTC(2026, 5, 1));
    await store.recordAccess([old.id, old.id], at);
    expect((await store.get([old.id]))[0]).toMatchObject({ accessCount: 11, lastAccessedAt: at });
    expect((await store.list({}, { limit: 10 })).items[0]).toMatchObject({ accessCount: 11, lastAccessedAt: at });
    // The memories page is not rewritten: the row keeps what it was written with.
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT access_count FROM memories WHERE id = ?').pluck().get(old.id)).toBe(9);
    check.close();

    // A purged memory's recorded accesses go with it: the next row given its rowid starts at 0.
    const erased = makeRecord({ content: 'read then erased' });
    await store.write([{ record: erased }]);
    await store.recordAccess([erased.id], at);
    expect(await store.purge?.([erased.id])).toBe(1);
    const next = makeRecord({ content: 'takes the erased rowid' });
    await store.write([{ record: next }]);
    const rows = new Database(path, { readonly: true });
    expect(rows.prepare('SELECT count(*) FROM memory_access').pluck().get()).toBe(1);
    rows.close();
    expect((await store.get([next.id]))[0]).toMatchObject({ accessCount: 0, lastAccessedAt: null });
    await store.close();
  });
});

describe('idle catch-up', () => {
  it("indexes another connection's writes while idle, so the next search does not wait for them", async () => {
    const path = tempPath();
    const reader = sqliteStore({ path });
    const writer = sqliteStore({ path });
    for (const store of [reader, writer]) {
      await store.open();
      await store.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
      await store.vectors?.open(16);
    }
    await writer.write([{ record: makeRecord({ content: 'first harbour note' }), vector: seededVector(1, 16) }]);
    // The reader's searches load its indexes (and start its idle catch-up).
    expect(await reader.lexicalSearch?.('harbour', {}, 5)).toHaveLength(1);
    expect(await reader.vectors?.search(seededVector(1, 16), 5)).toHaveLength(1);

    const indexed = vi.spyOn(LexicalIndex.prototype as unknown as { put: (row: unknown) => void }, 'put');
    const mirrored = vi.spyOn(VectorCache.prototype as unknown as { put: (row: unknown) => number }, 'put');
    try {
      await writer.write(
        Array.from({ length: 40 }, (_, index) => ({
          record: makeRecord({ content: `harbour note ${index}` }),
          vector: seededVector(index + 2, 16),
        })),
      );
      // No call on the reader: its timer catches up once it has been idle.
      await vi.waitFor(() => expect(indexed.mock.calls.length).toBe(40), { timeout: 3000, interval: 50 });
      expect(mirrored.mock.calls.length).toBe(40);
      indexed.mockClear();
      mirrored.mockClear();
      expect(await reader.lexicalSearch?.('harbour', {}, 50)).toHaveLength(41);
      expect(await reader.vectors?.search(seededVector(5, 16), 50)).toHaveLength(41);
      // Nothing was left for the search to index.
      expect(indexed).not.toHaveBeenCalled();
      expect(mirrored).not.toHaveBeenCalled();
    } finally {
      indexed.mockRestore();
      mirrored.mockRestore();
      await reader.close();
      await writer.close();
    }
  });

  it('catches up while idle a connection that only searches vectors, and copies the write-ahead log into the file', async () => {
    const path = tempPath();
    const reader = sqliteStore({ path });
    const writer = sqliteStore({ path });
    for (const store of [reader, writer]) {
      await store.open();
      await store.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
      await store.vectors?.open(16);
    }
    await writer.write([{ record: makeRecord({ content: 'first buoy note' }), vector: seededVector(1, 16) }]);
    // Vector search only (no lexical search ever): its first search starts the idle catch-up.
    expect(await reader.vectors?.search(seededVector(1, 16), 5)).toHaveLength(1);
    const mirrored = vi.spyOn(VectorCache.prototype as unknown as { put: (row: unknown) => number }, 'put');
    try {
      await writer.write(
        Array.from({ length: 30 }, (_, index) => ({
          record: makeRecord({ content: `buoy note ${index}` }),
          vector: seededVector(index + 2, 16),
        })),
      );
      await vi.waitFor(() => expect(mirrored.mock.calls.length).toBe(30), { timeout: 3000, interval: 50 });
      // The file alone (no -wal beside it) holds every row: the idle reader checkpointed the log.
      const copy = join(root, `wal-copy-${counter}.db`);
      await vi.waitFor(
        () => {
          copyFileSync(path, copy);
          const database = new Database(copy, { readonly: true });
          try {
            expect(database.prepare('SELECT count(*) FROM memories').pluck().get()).toBe(31);
          } finally {
            database.close();
          }
        },
        { timeout: 3000, interval: 100 },
      );
    } finally {
      mirrored.mockRestore();
      await reader.close();
      await writer.close();
    }
  });

  it('never loads the vector mirror of a connection whose searches did not', async () => {
    const path = tempPath();
    const store = sqliteStore({ path });
    await store.open();
    await store.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
    await store.vectors?.open(16);
    const loaded = vi.spyOn(VectorCache.prototype, 'sync');
    try {
      await store.write([{ record: makeRecord({ content: 'lexical only' }), vector: seededVector(1, 16) }]);
      expect(await store.lexicalSearch?.('lexical', {}, 5)).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(loaded).not.toHaveBeenCalled();
    } finally {
      loaded.mockRestore();
      await store.close();
    }
  });
});

describe("sync's erasure log (migration 0017: the sync_erasures table)", () => {
  it('moves the entries an older file kept in meta values, with their numbers, and goes on numbering after them', async () => {
    const path = tempPath();
    const first = sqliteStore({ path });
    await first.open();
    await first.close();
    // A file from before 0017: the log in meta values, its head read and written apart.
    const raw = new Database(path);
    raw.exec("DROP TABLE sync_erasures; DELETE FROM engram_migration WHERE name = '0017-erasure-log'");
    const meta = raw.prepare('INSERT INTO engram_meta (key, value) VALUES (?, ?)');
    meta.run('capability:sync:erasure:1', JSON.stringify({ ids: ['a', 'b'], origin: 'local' }));
    meta.run('capability:sync:erasure:2', JSON.stringify({ ids: ['c'], origin: 'sync' }));
    meta.run('capability:sync:erasure:head', '2');
    meta.run('capability:sync:erasures-pushed', '1');
    raw.close();

    const store = sqliteStore({ path });
    await store.open();
    const page = await store.erasuresAfter?.(0, 10);
    expect(page).toMatchObject({
      head: 2,
      horizon: 0,
      entries: [
        { seq: 1, ids: ['a', 'b'], origin: 'local' },
        { seq: 2, ids: ['c'], origin: 'sync' },
      ],
    });
    expect(await store.getMeta?.('sync:erasure:1')).toBeNull();
    expect(await store.getMeta?.('sync:erasure:head')).toBeNull();
    expect(await store.getMeta?.('sync:erasures-pushed')).toBe('1');
    expect(await store.appendErasures?.([{ ids: ['d'], origin: 'local' }], new Date())).toEqual([3]);
    await store.close();
  });
});
