import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { memoryColumns, readMemoryRows } from './sqlite-records.js';

describe('readMemoryRows', () => {
  it('builds the same rows as better-sqlite3 does, column for column', () => {
    const db = new Database(':memory:');
    const columns = memoryColumns().split(', ');
    db.exec(
      `CREATE TABLE memories (${columns.map((column) => (column === 'rowid' ? 'rowid INTEGER PRIMARY KEY' : `${column}`)).join(', ')})`,
    );
    const values = columns.map((column, index) =>
      column === 'rowid' ? 7 : index % 3 === 0 ? null : index % 3 === 1 ? `${column}-text` : index * 1.5,
    );
    db.prepare(`INSERT INTO memories (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...values);
    const sql = `SELECT ${memoryColumns()} FROM memories WHERE rowid = ?`;
    const expected = db.prepare(sql).all(7);
    expect(readMemoryRows(db.prepare(sql), 7)).toEqual(expected);
    expect(Object.keys(expected[0] as object)).toEqual(columns);
    db.close();
  });
});
