import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANGE_LOG_KEEP, CHANGE_LOG_TRIM_EVERY, changeLogTrimTrigger } from './sqlite-change-log.js';
import { decodeSnapshot } from './sqlite-snapshot.js';
import { sqliteStore } from './sqlite-store.js';

/**
 * The change log's horizon (migration 0018), at a small scale: the trim trigger is replaced by
 * one keeping 100 entries instead of 100,000, and a writer then adds more than that to a file
 * whose snapshots are older. A later connection must still load the snapshots and replay the
 * log, not rebuild from the rows.
 */
describe('SQLite change log horizon', () => {
  let directory: string;
  afterEach(() => rmSync(directory, { recursive: true, force: true }));
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const keep = 100;

  /** A file of 2,500 memories (enough to be persisted) with a lexical snapshot, and the trim trigger lowered. */
  async function persistedFile() {
    directory = mkdtempSync(join(tmpdir(), 'engram-change-log-'));
    const path = join(directory, 'memory.db');
    const store = sqliteStore({ path });
    await store.write(Array.from({ length: 2500 }, (_, index) => ({ record: makeRecord({ content: `wombat note ${index} r${index}` }) })));
    await store.lexicalSearch?.('wombat', {}, 5);
    await settle();
    await store.close();
    const db = new Database(path);
    db.exec('DROP TRIGGER memory_vector_log_after_insert');
    db.exec(changeLogTrimTrigger(keep));
    db.close();
    return path;
  }
  const snapshotSeq = (path: string) =>
    (decodeSnapshot(readFileSync(`${path}-lexical.snapshot`)).header as { meta: { seq: number } }).meta.seq;
  const query = (path: string, sql: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(sql).pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it('records the snapshot it wrote and keeps every entry after it, beyond the fixed window', async () => {
    const path = await persistedFile();
    const seq = snapshotSeq(path);
    expect(query(path, "SELECT CAST(value AS INTEGER) FROM engram_meta WHERE key = 'snapshot_seq:lexical'")).toBe(seq);

    // Behind the log's back (its trigger dropped), so only a rebuild from the rows would see it.
    const db = new Database(path);
    db.exec('DROP TRIGGER memories_after_search_field_update');
    db.prepare("UPDATE memories SET content = 'unlogged marker' WHERE rowid = 1").run();
    db.close();

    // A writer that never searches (it holds no index, so writes no snapshot) adds 300 memories:
    // 600 entries, six times the lowered window.
    const writer = sqliteStore({ path });
    const added = Array.from({ length: 300 }, (_, index) => makeRecord({ content: `numbat sighting ${index}` }));
    for (let start = 0; start < added.length; start += 50) {
      await writer.write(added.slice(start, start + 50).map((record) => ({ record })));
    }
    await writer.close();
    expect(query(path, 'SELECT count(*) FROM memory_vector_log')).toBeGreaterThan(2 * keep);
    expect(query(path, 'SELECT min(seq) FROM memory_vector_log')).toBeLessThanOrEqual(seq - 7);

    const reader = sqliteStore({ path });
    // From the snapshot: the unlogged change is not seen; from the log: all 300 new memories are.
    expect(await reader.lexicalSearch?.('unlogged', {}, 5)).toEqual([]);
    expect(new Set((await reader.lexicalSearch?.('numbat', {}, 400))?.map((match) => match.id))).toEqual(
      new Set(added.map((record) => record.id)),
    );
    await reader.close();
  });

  it('trims to the fixed window again once a newer snapshot covers the entries', async () => {
    const path = await persistedFile();
    const writer = sqliteStore({ path });
    const added = Array.from({ length: 1500 }, (_, index) => makeRecord({ content: `quoll sighting ${index}` }));
    await writer.write(added.map((record) => ({ record })));
    // Its search catches up and, 1,500 changes later, its close writes a newer snapshot.
    expect((await writer.lexicalSearch?.('quoll', {}, 2000))?.length).toBe(1500);
    await settle();
    await writer.close();
    const seq = snapshotSeq(path);
    expect(query(path, "SELECT CAST(value AS INTEGER) FROM engram_meta WHERE key = 'snapshot_seq:lexical'")).toBe(seq);
    // The next entries trim everything the window and that snapshot no longer need.
    const more = sqliteStore({ path });
    // 100 memories, 200 entries: at least one trim (every 64th entry).
    await more.write(Array.from({ length: 100 }, (_, index) => ({ record: makeRecord({ content: `one more quoll ${index}` }) })));
    await more.close();
    expect(query(path, 'SELECT count(*) FROM memory_vector_log')).toBeLessThanOrEqual(keep + CHANGE_LOG_TRIM_EVERY);
  });

  it('never keeps more than two entries a memory, whatever the snapshots', async () => {
    const path = await persistedFile();
    const writer = sqliteStore({ path });
    const record = makeRecord({ content: 'edited again and again' });
    await writer.write([{ record }]);
    // 6,000 edits of one memory: 6,000 entries, over the bound of 2 × ~2,500 memories.
    for (let round = 0; round < 6000; round += 1) {
      const content = `edited again and again, round ${round}`;
      await writer.update(record.id, { content, updatedAt: new Date() });
    }
    await writer.close();
    expect(query(path, "SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'") - snapshotSeq(path)).toBeGreaterThan(6000);
    const memories = query(path, 'SELECT max(rowid) FROM memories');
    expect(query(path, 'SELECT count(*) FROM memory_vector_log')).toBeLessThanOrEqual(2 * memories + CHANGE_LOG_TRIM_EVERY);
  }, 60_000);

  it('is the trigger a new file gets', () => {
    directory = mkdtempSync(join(tmpdir(), 'engram-change-log-'));
    const path = join(directory, 'memory.db');
    return (async () => {
      const store = sqliteStore({ path });
      await store.write([{ record: makeRecord({ content: 'fresh' }) }]);
      await store.close();
      const db = new Database(path, { readonly: true });
      const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'memory_vector_log_after_insert'").pluck().get() as string;
      db.close();
      expect(sql.replace(/\s+/g, ' ')).toBe(changeLogTrimTrigger(CHANGE_LOG_KEEP).replace(/\s+/g, ' '));
    })();
  });
});
