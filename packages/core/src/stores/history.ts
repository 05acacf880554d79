import type { HistoryEntry, HistoryEvent, MemoryRecord } from '../contracts/model.js';

/** Fields a history entry never records: bookkeeping that changes on every read or write. */
const IGNORED = new Set<keyof MemoryRecord>(['accessCount', 'lastAccessedAt', 'updatedAt', 'contentHash', 'decayScore']);

function plain(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** The changed fields between two versions of a record, old → new (dates as ISO strings). */
export function diffRecords(before: MemoryRecord | null, after: MemoryRecord): HistoryEntry['changes'] {
  const changes: HistoryEntry['changes'] = {};
  for (const key of Object.keys(after) as Array<keyof MemoryRecord>) {
    if (IGNORED.has(key)) continue;
    const to = plain(after[key]);
    if (before === null) {
      // A creation lists every field that has a value (what JSON would not write as null).
      if (to !== null && !(typeof to === 'number' && !Number.isFinite(to))) changes[key] = { from: null, to };
      continue;
    }
    const from = plain(before[key]);
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}

/** The history entry for a change from `before` (null: creation) to `after`. */
export function historyEntry(
  event: HistoryEvent,
  before: MemoryRecord | null,
  after: MemoryRecord,
  at: Date,
  reason: string | null = null,
): HistoryEntry {
  return { memoryId: after.id, event, at, changes: diffRecords(before, after), reason };
}

/**
 * The `created` entry of a new record, as `historyEntry('created', null, record, record.createdAt,
 * reason)`, with its changes (every field of the record) listed only when first read: the SQLite
 * and Postgres stores keep none for a creation (they read the row back), and listing them for every
 * memory written cost ~2 µs a memory (SQLite) and ~4 ms a batch of 1,000 (Postgres). `record` must
 * not change afterwards.
 */
export function createdHistoryEntry(record: MemoryRecord, reason: string | null = null): HistoryEntry {
  let changes: HistoryEntry['changes'] | undefined;
  return {
    memoryId: record.id,
    event: 'created',
    at: record.createdAt,
    get changes() {
      changes ??= diffRecords(null, record);
      return changes;
    },
    reason,
  };
}

/** Which event an update is: setting `supersededBy` is a supersession. */
export function updateEvent(before: MemoryRecord, after: MemoryRecord): HistoryEvent {
  return after.supersededBy !== null && before.supersededBy === null ? 'superseded' : 'updated';
}
