import { archivePathFor, jsonlArchive } from '@engram/adapters/archive';
import { type IngestFilesOptions, type IngestFilesReport, ingestFiles, unpdfReader } from '@engram/adapters/files';
import { type SqliteStoreOptions, sqliteStore } from '@engram/adapters/sqlite';
import {
  Memory as CoreMemory,
  type MemoryOptions as CoreMemoryOptions,
  type EncryptionOptions,
  encryptionFromEnvironment as encryptionFromEnvironmentOf,
  type IngestOptions,
  type IngestReport,
  type IngestSource,
  syncFromEnvironment,
} from '@engram/core';
import { defaultEmbedder } from './default-embedder.js';

/** Keys for sensitive memories from the environment (ENGRAM_ENCRYPTION_KEY, …; see core's `encryptionFromEnvironment`). */
export function encryptionFromEnvironment(env: Record<string, string | undefined> = process.env): EncryptionOptions | undefined {
  return encryptionFromEnvironmentOf(env);
}

/** Where `new Memory()` keeps its SQLite file unless told otherwise. */
export const DEFAULT_PATH = './.engram/memory.db';

export interface EngramMemoryOptions extends Partial<CoreMemoryOptions> {
  /** SQLite file for the default store. Default: ENGRAM_PATH, else ./.engram/memory.db. Ignored when `store` is given. */
  path?: string;
  /** Other options of the default SQLite store (`busyTimeoutMs`, `onClose`, …; see docs/adapters/sqlite.md). Ignored when `store` is given. */
  sqlite?: Omit<SqliteStoreOptions, 'path'>;
}

/**
 * `Memory` with batteries: a SQLite file and the default embedder unless you pass your own.
 * Every core option (`store`, `embedder`, `vectors`, `ontology`, `dedup`, `retrieval`, …) is
 * accepted; only what is missing is filled in. No I/O until first use. With the default SQLite
 * store, consolidation archives forgotten memories to `<file>.archive.jsonl` beside it
 * (`memory.db` → `memory.archive.jsonl`) unless `consolidation.archive` says otherwise.
 */
export class Memory extends CoreMemory {
  constructor(options: EngramMemoryOptions = {}) {
    const { path, sqlite, ...rest } = options;
    const logger = rest.logger;
    const log = logger === false ? () => {} : (logger ?? ((message: string) => console.error(`[engram] ${message}`)));
    const encryption = rest.encryption ?? encryptionFromEnvironment();
    const storePath = path ?? process.env.ENGRAM_PATH ?? DEFAULT_PATH;
    // ENGRAM_SYNC_URL / ENGRAM_SYNC_KEY make the default SQLite store a replica of a server (docs/sync.md).
    const sync = rest.sync ?? (rest.store === undefined ? syncFromEnvironment(process.env) : undefined);
    const defaultArchive = rest.store === undefined && storePath !== ':memory:' && rest.consolidation?.archive === undefined;
    super({
      ...rest,
      ...(encryption ? { encryption } : {}),
      ...(sync ? { sync } : {}),
      ...(defaultArchive ? { consolidation: { ...rest.consolidation, archive: jsonlArchive({ path: archivePathFor(storePath) }) } } : {}),
      ingestion: { pdf: unpdfReader, ...rest.ingestion },
      store: rest.store ?? sqliteStore({ ...sqlite, path: storePath }),
      embedder: rest.embedder ?? defaultEmbedder({ log }),
    });
  }

  /**
   * Also takes paths: a file, a folder (every readable file under it) or a glob (`docs/**\/*.md`),
   * read from disk, with `prune: true` to forget documents whose file is gone. Text and buffers
   * work as in core.
   */
  override ingest(source: IngestSource | IngestSource[], options?: IngestOptions): Promise<IngestReport>;
  override ingest(paths: string | string[], options?: IngestFilesOptions): Promise<IngestFilesReport>;
  override ingest(
    source: string | string[] | IngestSource | IngestSource[],
    options: IngestFilesOptions = {},
  ): Promise<IngestReport | IngestFilesReport> {
    if (typeof source === 'string' || (Array.isArray(source) && source.every((item) => typeof item === 'string'))) {
      return ingestFiles(this, typeof source === 'string' ? [source] : (source as string[]), options);
    }
    return super.ingest(source as IngestSource | IngestSource[], options);
  }
}
