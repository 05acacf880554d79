import { readErasedSeq } from './sqlite-change-log.js';
import type { SqliteSession } from './sqlite-session.js';

/**
 * Memory ids by rowid, remembered per connection: the lexical and vector indexes rank rowids, and
 * each search turned its ~40 of each into ids with a query (0.1 ms of CPU apiece at 10k, a tenth
 * of a REST search). A row's id never changes (`memories.rowid` is an explicit INTEGER PRIMARY KEY,
 * which VACUUM keeps, and no statement updates `id`); a rowid names another memory only after
 * its row is deleted, which only an erasure (`purge`) does, and every erasure is recorded
 * (`recordErasure`, whichever process ran it). So the remembered ids hold until the erasure mark
 * moves, when they are all forgotten. At most `capacity` are kept (forgotten all at once beyond).
 */
const capacity = 65_536;

interface Remembered {
  erasedSeq: number;
  ids: Map<number, string>;
}

const remembered = new WeakMap<SqliteSession, Remembered>();

/**
 * The id of each rowid, in order (undefined for a rowid with no row). Reads, in one statement,
 * only the rowids not remembered yet.
 */
export function idsOfRowids(session: SqliteSession, rowids: ArrayLike<number>): Array<string | undefined> {
  const out: Array<string | undefined> = new Array(rowids.length);
  if (rowids.length === 0) return out;
  const erasedSeq = readErasedSeq(session);
  let entry = remembered.get(session);
  if (!entry || entry.erasedSeq !== erasedSeq || entry.ids.size + rowids.length > capacity) {
    entry = { erasedSeq, ids: new Map() };
    remembered.set(session, entry);
  }
  const { ids } = entry;
  const missing: number[] = [];
  for (let index = 0; index < rowids.length; index++) {
    const rowid = rowids[index] as number;
    const id = ids.get(rowid);
    if (id === undefined) missing.push(rowid);
    else out[index] = id;
  }
  if (missing.length === 0) return out;
  const rows = session
    .statement('SELECT rowid, id FROM memories WHERE rowid IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(missing)) as Array<{ rowid: number; id: string }>;
  for (const row of rows) ids.set(row.rowid, row.id);
  for (let index = 0; index < rowids.length; index++) {
    if (out[index] === undefined) out[index] = ids.get(rowids[index] as number);
  }
  return out;
}
