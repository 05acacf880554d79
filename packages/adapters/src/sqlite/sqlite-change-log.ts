import type { SqliteSession } from './sqlite-session.js';

const headSql = "SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'";

/**
 * What changed since a mirror last caught up with `memory_vector_log` — the change log of the
 * fields the in-memory mirrors hold (vector codes, lexical index, filter fields). Triggers append
 * a memory's rowid whenever its row is inserted or deleted, its text, type, supersession or
 * validity changes, or its vector is written or dropped, whichever process writes; the log keeps
 * its last 100,000 entries.
 */
export type LogChanges = { kind: 'reload'; head: number } | { kind: 'rows'; head: number; rowids: number[] };

/** The log's last sequence number (0 before any entry; never reused: AUTOINCREMENT). */
export function readLogHead(session: SqliteSession): number {
  const row = session.statement(headSql).get() as { seq: number } | undefined;
  return row?.seq ?? 0;
}

/**
 * The log entry an erasure (`purge`) ended at, or 0. An in-memory mirror loaded from a state
 * before it may still hold erased text (a BM25 vocabulary keeps the words of removed rows), so
 * it reloads from the rows instead of catching up, and a snapshot taken before it is ignored.
 */
export function readErasedSeq(session: SqliteSession): number {
  const value = session.statement("SELECT value FROM engram_meta WHERE key = 'erased_seq'").pluck().get() as string | undefined;
  return value === undefined ? 0 : Number(value);
}

/** Records an erasure at the log's current head (inside the erasing transaction). */
export function recordErasure(session: SqliteSession): void {
  session
    .statement("INSERT INTO engram_meta (key, value) VALUES ('erased_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    .run(String(readLogHead(session)));
}

/**
 * The rowids changed after entry `appliedSeq`, or `reload` when the mirror must load everything:
 * it never loaded (`appliedSeq` < 0), the log moved backwards (a transaction it saw rolled back),
 * it fell further behind than the log keeps, or more rows changed than reloading would cost
 * (over half of `liveCount`, plus 1,000). Call inside a read transaction, with the reads that follow.
 */
export function readLogChanges(session: SqliteSession, appliedSeq: number, liveCount: number): LogChanges {
  const head = readLogHead(session);
  if (appliedSeq < 0 || head < appliedSeq || appliedSeq < readErasedSeq(session)) return { kind: 'reload', head };
  const oldest = session.statement('SELECT min(seq) AS seq FROM memory_vector_log').get() as { seq: number | null };
  if (oldest.seq === null ? head > appliedSeq : oldest.seq > appliedSeq + 1) return { kind: 'reload', head };
  const rowids = session
    .statement('SELECT DISTINCT memory_rowid AS rowid FROM memory_vector_log WHERE seq > ?')
    .pluck()
    .all(appliedSeq) as number[];
  if (rowids.length > liveCount / 2 + 1000) return { kind: 'reload', head };
  return { kind: 'rows', head, rowids };
}
