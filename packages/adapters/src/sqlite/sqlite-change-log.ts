import type { SqliteSession } from './sqlite-session.js';

const headSql = "SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'";

/**
 * What changed since a mirror last caught up with `memory_vector_log` — the change log of the
 * fields the in-memory mirrors hold (vector codes, lexical index, filter fields). Triggers append
 * a memory's rowid whenever its row is inserted or deleted, its text, type, supersession or
 * validity changes, or its vector is written or dropped, whichever process writes. What the log
 * keeps is `changeLogTrimTrigger`'s (migration 0018): every entry after the newest snapshots,
 * within bounds.
 */
export type LogChanges = { kind: 'reload'; head: number } | { kind: 'rows'; head: number; rowids: number[]; complete: boolean };

/** What one catch-up of a mirror did: the rows it re-indexed (or loaded), and whether it reached the log's head. */
export interface CatchUp {
  rows: number;
  current: boolean;
}

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
  // Snapshots from before an erasure are never used again (they are deleted next): the log no
  // longer keeps entries for them.
  session.statement(`DELETE FROM engram_meta WHERE key IN ${snapshotSeqKeys}`).run();
}

/** Entries the log keeps whatever the snapshots: a running connection this far behind catches up. */
export const CHANGE_LOG_KEEP = 100_000;

/**
 * At most this many entries a memory (by the largest rowid) are kept for a snapshot: a
 * connection whose snapshot is further behind would reload anyway (see `readLogChanges`: over
 * half the memories changed), and a file whose snapshots are never refreshed (only writers,
 * never a search) does not keep a log without bound.
 */
export const CHANGE_LOG_ENTRIES_PER_MEMORY = 2;

/** Entries between two trims: the log holds up to this many more than its bounds. */
export const CHANGE_LOG_TRIM_EVERY = 64;

/** The `engram_meta` keys of the snapshots' sequence numbers (`snapshot_seq:<name>`, see `recordSnapshotSeq`). */
const snapshotSeqKeys = "('snapshot_seq:lexical', 'snapshot_seq:vectors')";

/**
 * The log's trim trigger (migration 0018; lower bounds only in tests). Each new entry deletes the
 * entries no reader needs: those older than `keep` entries that the persisted snapshots do not
 * need either — a snapshot at seq S needs every entry after S, and S-7…S as its fingerprint (see
 * `readSnapshot`) — and in any case those more than `perMemory` entries a memory back. Before,
 * the log kept 100,000 entries (2 a memory): a process adding 50,000 memories to a file whose
 * snapshots were older made every later process rebuild its indexes from the rows (~30 s at 1M).
 */
export function changeLogTrimTrigger(keep = CHANGE_LOG_KEEP, perMemory = CHANGE_LOG_ENTRIES_PER_MEMORY): string {
  const snapshots = `(SELECT min(CAST(value AS INTEGER)) FROM engram_meta WHERE key IN ${snapshotSeqKeys})`;
  const longest = `max(${keep}, ${perMemory} * coalesce((SELECT max(rowid) FROM memories), 0))`;
  // Every 64th entry trims (a range delete on the key): the lookups cost a 64th of a per-entry trim.
  return `CREATE TRIGGER memory_vector_log_after_insert AFTER INSERT ON memory_vector_log WHEN new.seq % ${CHANGE_LOG_TRIM_EVERY} = 0 BEGIN
    DELETE FROM memory_vector_log
    WHERE seq <= max(new.seq - ${longest}, min(new.seq - ${keep}, coalesce(${snapshots} - 8, new.seq)));
  END`;
}

/**
 * Notes that the snapshot `name` now reflects the log up to `seq`, so the log keeps what it needs.
 * Never waits for the write lock (the caller set busy_timeout 0) and never throws: when busy the
 * log keeps following the previous snapshot's number, keeping more, never less.
 */
export function recordSnapshotSeq(session: SqliteSession, name: string, seq: number): void {
  try {
    session.write(() => {
      session
        .statement('INSERT INTO engram_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
        .run(`snapshot_seq:${name}`, String(seq));
    });
  } catch {
    // Busy or read-only: see above.
  }
}

/**
 * The rowids changed after entry `appliedSeq`, or `reload` when the mirror must load everything:
 * it never loaded (`appliedSeq` < 0), the log moved backwards (a transaction it saw rolled back),
 * it fell further behind than the log keeps, or more rows changed than reloading would cost
 * (over half of `liveCount`, plus 1,000). Call inside a read transaction, with the reads that follow.
 *
 * With `limit` (a step of a writer's catch-up, see `SqliteStore.followWrites`): the rowids of at
 * most `limit` entries after `appliedSeq`, oldest first, and `head` the last of those entries, so
 * the next step carries on from there; never `reload` because many rows changed (only when the
 * mirror cannot catch up at all). Reading a row newer than `head` is harmless: its later entries
 * re-read it.
 */
export function readLogChanges(
  session: SqliteSession,
  appliedSeq: number,
  liveCount: number,
  limit = Number.POSITIVE_INFINITY,
): LogChanges {
  const head = readLogHead(session);
  if (appliedSeq < 0 || head < appliedSeq || appliedSeq < readErasedSeq(session)) return { kind: 'reload', head };
  const oldest = session.statement('SELECT min(seq) AS seq FROM memory_vector_log').get() as { seq: number | null };
  if (oldest.seq === null ? head > appliedSeq : oldest.seq > appliedSeq + 1) return { kind: 'reload', head };
  if (head - appliedSeq > limit) {
    const entries = session
      .statement('SELECT seq, memory_rowid FROM memory_vector_log WHERE seq > ? ORDER BY seq LIMIT ?')
      .raw(true)
      .all(appliedSeq, limit) as Array<[seq: number, rowid: number]>;
    const last = entries.at(-1)?.[0] ?? head;
    return { kind: 'rows', head: last, rowids: [...new Set(entries.map((entry) => entry[1]))], complete: last === head };
  }
  const rowids = session
    .statement('SELECT DISTINCT memory_rowid AS rowid FROM memory_vector_log WHERE seq > ?')
    .pluck()
    .all(appliedSeq) as number[];
  if (limit === Number.POSITIVE_INFINITY && rowids.length > liveCount / 2 + 1000) return { kind: 'reload', head };
  return { kind: 'rows', head, rowids, complete: true };
}
