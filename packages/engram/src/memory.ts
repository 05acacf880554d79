import { sqliteStore } from '@engram/adapters/sqlite';
import { Memory as CoreMemory, type MemoryOptions as CoreMemoryOptions, type EncryptionOptions } from '@engram/core';
import { defaultEmbedder } from './default-embedder.js';

/**
 * Keys for sensitive memories from the environment: ENGRAM_ENCRYPTION_KEY (the current key, 64
 * hex characters or base64 of 32 bytes) and ENGRAM_ENCRYPTION_PREVIOUS_KEYS (comma-separated older
 * keys, to read and rotate memories written before a rotation).
 */
export function encryptionFromEnvironment(env: Record<string, string | undefined> = process.env): EncryptionOptions | undefined {
  const key = env.ENGRAM_ENCRYPTION_KEY?.trim();
  if (!key) return undefined;
  const previous = (env.ENGRAM_ENCRYPTION_PREVIOUS_KEYS ?? '')
    .split(',')
    .map((text) => text.trim())
    .filter((text) => text.length > 0);
  return { key, ...(previous.length > 0 ? { previousKeys: previous } : {}) };
}

/** Where `new Memory()` keeps its SQLite file unless told otherwise. */
export const DEFAULT_PATH = './.engram/memory.db';

export interface EngramMemoryOptions extends Partial<CoreMemoryOptions> {
  /** SQLite file for the default store. Default: ENGRAM_PATH, else ./.engram/memory.db. Ignored when `store` is given. */
  path?: string;
}

/**
 * `Memory` with batteries: a SQLite file and the default embedder unless you pass your own.
 * Every core option (`store`, `embedder`, `vectors`, `ontology`, `dedup`, `retrieval`, …) is
 * accepted; only what is missing is filled in. No I/O until first use.
 */
export class Memory extends CoreMemory {
  constructor(options: EngramMemoryOptions = {}) {
    const { path, ...rest } = options;
    const logger = rest.logger;
    const log = logger === false ? () => {} : (logger ?? ((message: string) => console.error(`[engram] ${message}`)));
    const encryption = rest.encryption ?? encryptionFromEnvironment();
    super({
      ...rest,
      ...(encryption ? { encryption } : {}),
      store: rest.store ?? sqliteStore({ path: path ?? process.env.ENGRAM_PATH ?? DEFAULT_PATH }),
      embedder: rest.embedder ?? defaultEmbedder({ log }),
    });
  }
}
