import type { MemoryRecord } from '../contracts/model.js';

/** Why a memory was archived. */
export type ArchiveReason = 'forgotten' | 'compressed';

/**
 * Where consolidation writes a memory, whole, before it soft-deletes it. `append` must have made
 * the records durable when it resolves: the delete follows. `jsonlArchive({ path })` from the
 * `engram` package appends export-format JSON Lines that `engram import` restores.
 */
export interface ConsolidationArchive {
  /** Where the archive lives, for reports and messages (a file path). */
  readonly location: string;
  append(records: MemoryRecord[], reason: ArchiveReason): Promise<void>;
}

/** An archive held in memory (tests, short-lived agents): `entries` lists what was appended. */
export function memoryArchive(): ConsolidationArchive & { entries: Array<{ record: MemoryRecord; reason: ArchiveReason }> } {
  const entries: Array<{ record: MemoryRecord; reason: ArchiveReason }> = [];
  return {
    location: 'memory',
    entries,
    async append(records, reason) {
      for (const record of records) entries.push({ record: structuredClone(record), reason });
    },
  };
}
