import { archivePathFor, jsonlArchive } from '@engram/adapters/archive';
import { unpdfReader } from '@engram/adapters/files';
import {
  AdapterError,
  encryptionFromEnvironment as coreEncryptionFromEnvironment,
  Memory,
  type MemoryStore,
  syncFromEnvironment,
  ValidationError,
} from '@engram/core';
import { type ResolvedConfig, redactUrl } from './config.js';
import { embedderChoice } from './embedder-choice.js';

const EMBEDDER_CHOICE = /^(auto|hash|transformers(:.+)?)$/;

/** Throws a ValidationError naming ENGRAM_EMBEDDER when the choice can never work (checked at start-up). */
export function checkEmbedderChoice(choice: string): void {
  if (!EMBEDDER_CHOICE.test(choice.trim())) {
    throw new ValidationError([
      { field: 'ENGRAM_EMBEDDER', message: `"${choice}" is not one of auto, hash, transformers, transformers:<model id>` },
    ]);
  }
}

/** Sensitive memories: the same variables as the engram package (docs/data-safety.md). */
export const encryptionFromEnvironment = coreEncryptionFromEnvironment;

/**
 * Builds the `Memory` the server uses. Adapters and embedders are imported here, on first use,
 * so that the process answers `initialize` before any native module or model loads.
 */
export async function createMemory(config: ResolvedConfig, log: (message: string) => void): Promise<Memory> {
  const store = config.store.kind === 'sqlite' ? await sqlite(config.store.path) : await postgres(config.store.connectionString);
  const encryption = encryptionFromEnvironment(process.env);
  // memory_consolidate archives what it forgets: beside a SQLite file by default (`memory.archive.jsonl`).
  const archivePath =
    config.archivePath ??
    (config.store.kind === 'sqlite' && config.store.path !== ':memory:' ? archivePathFor(config.store.path) : undefined);
  // ENGRAM_SYNC_URL / ENGRAM_SYNC_KEY: the store is a replica of an Engram server (docs/sync.md).
  const sync = syncFromEnvironment(process.env);
  return new Memory({
    store,
    ...(sync ? { sync } : {}),
    embedder: embedderChoice(config.embedder, log),
    logger: log,
    // memory_ingest reads PDF files too (unpdf loads on the first PDF).
    ingestion: { pdf: unpdfReader },
    ...(config.model ? { model: config.model } : {}),
    ...(encryption ? { encryption } : {}),
    ...(archivePath ? { consolidation: { archive: jsonlArchive({ path: archivePath }) } } : {}),
  });
}

async function sqlite(path: string): Promise<MemoryStore> {
  let module: typeof import('@engram/adapters/sqlite');
  try {
    module = await import('@engram/adapters/sqlite');
  } catch (error) {
    throw new AdapterError('sqlite', 'load', error, 'Install the SQLite peers: npm install better-sqlite3 kysely sqlite-vec');
  }
  return module.sqliteStore({ path });
}

interface PostgresModule {
  postgresStore(options: { connectionString: string }): MemoryStore;
}

// A variable specifier: the Postgres adapter is optional, and neither TypeScript nor the bundler
// should require it to exist.
const POSTGRES_ADAPTER = '@engram/adapters/postgres';

async function postgres(connectionString: string): Promise<MemoryStore> {
  let module: Partial<PostgresModule>;
  try {
    module = (await import(POSTGRES_ADAPTER)) as Partial<PostgresModule>;
  } catch (error) {
    throw new AdapterError(
      'postgres',
      'load',
      error,
      `ENGRAM_PG_URL (${redactUrl(connectionString)}) asks for Postgres, but ${POSTGRES_ADAPTER} could not be loaded. ` +
        'Install a version of @engram/adapters that includes it, plus its driver (npm install pg), or unset ENGRAM_PG_URL to use SQLite',
    );
  }
  if (typeof module.postgresStore !== 'function') {
    throw new AdapterError('postgres', 'load', new Error(`${POSTGRES_ADAPTER} has no postgresStore export`), 'Upgrade @engram/adapters');
  }
  return module.postgresStore({ connectionString });
}
