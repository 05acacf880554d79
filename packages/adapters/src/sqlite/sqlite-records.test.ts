import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { memoryColumnNames, memoryColumns, readMemoryRows } from './sqlite-records.js';

describe('readMemoryRows', () => {
  it('builds the same rows as better-sqlite3 does, column for column', () => {
    const db = new Database(':memory:');
    const columns = [...memoryColumnNames];
    db.exec(
      `CREATE TABLE memories (${columns.map((column) => (column === 'rowid' ? 'rowid INTEGER PRIMARY KEY' : `${column}`)).join(', ')})`,
    );
    db.exec('CREATE TABLE memory_access (memory_rowid INTEGER PRIMARY KEY, count INTEGER NOT NULL, last_accessed_at INTEGER NOT NULL)');
    const values = columns.map((column, index) =>
      column === 'rowid' ? 7 : column === 'access_count' ? 4 : index % 3 === 0 ? null : index % 3 === 1 ? `${column}-text` : index * 1.5,
    );
    db.prepare(`INSERT INTO memories (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...values);
    db.prepare(`INSERT INTO memories (rowid, access_count, last_accessed_at) VALUES (8, 2, 1000)`).run();
    // Accesses recorded since the row was written add to its count and give the last access.
    db.prepare('INSERT INTO memory_access VALUES (7, 3, 5000)').run();
    const sql = `SELECT ${memoryColumns()} FROM memories WHERE rowid = ?`;
    const expected = db.prepare(sql).all(7);
    expect(readMemoryRows(db.prepare(sql), 7)).toEqual(expected);
    expect(Object.keys(expected[0] as object)).toEqual(columns);
    expect(expected[0]).toMatchObject({ access_count: 7, last_accessed_at: 5000 });
    // Without recorded accesses, the row's own columns.
    expect(db.prepare(sql).get(8)).toMatchObject({ access_count: 2, last_accessed_at: 1000 });
    const aliased = `SELECT ${memoryColumns('m')} FROM memories m WHERE m.rowid = ?`;
    expect(readMemoryRows(db.prepare(aliased), 7)).toEqual(expected);
    db.close();
  });
});
