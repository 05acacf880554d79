import type { SqliteSession } from './sqlite-session.js';

export interface ReclaimResult {
  /** VACUUM ran: the file was rewritten without free pages. */
  vacuumed: boolean;
  /** The WAL was checkpointed and truncated to zero bytes. */
  walTruncated: boolean;
}

/**
 * Gives the space of erased rows back and removes their old page images: a WAL checkpoint (so the
 * write-ahead log no longer holds pages written before the erasure), VACUUM (rewrites the file
 * without free pages), and a second checkpoint that truncates the WAL. Another connection reading
 * at that moment can keep VACUUM or the truncation from happening; then the freed pages are still
 * zeroed (the erasure ran with `secure_delete`) and the next erasure or `engram backup` retries.
 * Never throws: the erasure itself has committed.
 */
export function reclaimSpace(session: SqliteSession): ReclaimResult {
  const { db } = session;
  if (db.memory || db.inTransaction) return { vacuumed: false, walTruncated: false };
  let vacuumed = false;
  let walTruncated = false;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('VACUUM');
    vacuumed = true;
  } catch {
    // Busy (another connection is reading or writing): see above.
  }
  try {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    walTruncated = row !== undefined && row.busy === 0;
  } catch {
    // Not in WAL mode, or busy.
  }
  return { vacuumed, walTruncated };
}
