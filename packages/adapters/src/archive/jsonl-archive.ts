import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ArchiveReason, ConsolidationArchive, MemoryRecord } from '@engram/core';

export interface JsonlArchiveOptions {
  /** The JSON Lines file forgotten memories are appended to (created with its folder). */
  path: string;
}

/**
 * A consolidation archive in the `engram export` format: one memory per line with every field,
 * so `engram import <archive>` restores what consolidation forgot. Each `append` is one write
 * followed by an fsync, so the lines are on disk before consolidation deletes the memories.
 * The archive only grows; restore by importing it, trim it with your own tools.
 */
export function jsonlArchive(options: JsonlArchiveOptions): ConsolidationArchive {
  if (!options || typeof options.path !== 'string' || options.path.trim().length === 0) {
    throw new TypeError('jsonlArchive: pass { path }, the JSON Lines file forgotten memories are appended to');
  }
  const path = resolve(options.path);
  return {
    location: path,
    async append(records: MemoryRecord[], _reason: ArchiveReason): Promise<void> {
      if (records.length === 0) return;
      // The reason is in the consolidation report; lines stay exactly the export format so import takes them.
      // JSON.stringify writes dates as ISO strings: the `engram export` format `engram import` reads.
      const text = `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;
      mkdirSync(dirname(path), { recursive: true });
      const handle = await open(path, 'a');
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
}

/** The default archive beside a store file: `memory.db` → `memory.archive.jsonl`. */
export function archivePathFor(storePath: string): string {
  return `${storePath.replace(/\.(db|sqlite3?)$/i, '')}.archive.jsonl`;
}
