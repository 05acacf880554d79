import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteSession } from './sqlite-session.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-session-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Another connection (a worker thread, standing for another process) takes the write lock, tells
 * us, holds it for `holdMs` and reports the moment it committed (ms since the epoch, sub-ms).
 */
function holdWriteLock(path: string, holdMs: number): { held: Promise<void>; released: Promise<number> } {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.path);
    db.exec('BEGIN IMMEDIATE');
    db.prepare('INSERT INTO notes (text) VALUES (?)').run('held');
    parentPort.postMessage('held');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
    db.exec('COMMIT');
    parentPort.postMessage(performance.timeOrigin + performance.now());
    db.close();
    `,
    { eval: true, workerData: { path, holdMs, driver: require.resolve('better-sqlite3') } },
  );
  const messages: unknown[] = [];
  const waiting: Array<(message: unknown) => void> = [];
  worker.on('message', (message) => {
    const next = waiting.shift();
    if (next) next(message);
    else messages.push(message);
  });
  const nextMessage = () => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiting.push(resolve)));
  const held = nextMessage().then(() => undefined);
  const released = held.then(() => nextMessage()).then((at) => at as number);
  return { held, released };
}

function openSession(name: string, busyTimeoutMs: number): { session: SqliteSession; path: string; db: Database.Database } {
  const path = join(root, `${name}.db`);
  const db = new Database(path, { timeout: busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  return { session: new SqliteSession(db, path), path, db };
}

describe('SqliteSession.write while another connection holds the write lock', () => {
  it('gets the lock within a fraction of a millisecond of its release, not at SQLite’s next sleep step', async () => {
    // SQLite's own wait sleeps 1, 2, 5, 10, 15 … ms between tries (retrying at 1, 3, 8, 18, 33 ms):
    // a lock released ~20 ms after the first try is taken at 33 ms, ~13 ms late.
    const { session, path, db } = openSession('prompt', 5_000);
    const lateness: number[] = [];
    for (let trial = 0; trial < 5; trial++) {
      const other = holdWriteLock(path, 20);
      await other.held;
      session.write(() => session.statement('INSERT INTO notes (text) VALUES (?)').run('waited'));
      const acquiredAt = performance.timeOrigin + performance.now();
      lateness.push(acquiredAt - (await other.released));
    }
    lateness.sort((a, b) => a - b);
    expect(lateness[2]).toBeLessThan(6);
    expect(db.prepare("SELECT count(*) FROM notes WHERE text = 'waited'").pluck().get()).toBe(5);
    db.close();
  });

  it('still fails with SQLITE_BUSY, writing nothing, once the busy timeout has passed', async () => {
    const { session, path, db } = openSession('timeout', 20);
    const other = holdWriteLock(path, 300);
    await other.held;
    const begin = performance.now();
    expect(() => session.write(() => session.statement('INSERT INTO notes (text) VALUES (?)').run('too late'))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^SQLITE_BUSY/) }),
    );
    expect(performance.now() - begin).toBeGreaterThanOrEqual(19);
    await other.released;
    expect(db.prepare("SELECT count(*) FROM notes WHERE text = 'too late'").pluck().get()).toBe(0);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(20);
    db.close();
  });

  it('does not wait at all on a connection set to busy_timeout 0 (what snapshot bookkeeping asks for)', async () => {
    const { session, path, db } = openSession('no-wait', 0);
    const other = holdWriteLock(path, 200);
    await other.held;
    const begin = performance.now();
    expect(() => session.write(() => session.statement('INSERT INTO notes (text) VALUES (?)').run('not now'))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^SQLITE_BUSY/) }),
    );
    expect(performance.now() - begin).toBeLessThan(100);
    await other.released;
    expect(db.pragma('busy_timeout', { simple: true })).toBe(0);
    db.close();
  });
});

describe('SqliteSession.read', () => {
  it('runs its reads as one snapshot: a commit by another connection in between is not seen', () => {
    const { session, path, db } = openSession('read-snapshot', 1_000);
    db.prepare('INSERT INTO notes (text) VALUES (?)').run('first');
    const other = new Database(path);
    const count = () => session.statement('SELECT count(*) FROM notes').pluck().get() as number;
    const seen = session.read(() => {
      const before = count();
      other.prepare('INSERT INTO notes (text) VALUES (?)').run('second');
      return [before, count(), db.inTransaction];
    });
    expect(seen).toEqual([1, 1, true]);
    // Outside, each statement is its own transaction and sees the commit.
    expect(count()).toBe(2);
    expect(db.inTransaction).toBe(false);
    other.close();
    db.close();
  });

  it('ends its transaction when the work throws, and passes the error on', () => {
    const { session, db } = openSession('read-throws', 1_000);
    expect(() =>
      session.read(() => {
        session.statement('SELECT count(*) FROM notes').get();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it('inside a transaction already open, runs in it (and leaves it open)', () => {
    const { session, db } = openSession('read-nested', 1_000);
    db.exec('BEGIN');
    expect(session.read(() => db.inTransaction)).toBe(true);
    expect(db.inTransaction).toBe(true);
    db.exec('COMMIT');
    db.close();
  });
});
