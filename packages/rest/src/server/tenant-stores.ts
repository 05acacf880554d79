import { basename, dirname, extname, join } from 'node:path';
import { archivePathFor, jsonlArchive } from '@engram/adapters/archive';
import { unpdfReader } from '@engram/adapters/files';
import { AdapterError, type EncryptionOptions, type LanguageModel, Memory, type MemoryStore } from '@engram/core';
import { defaultEmbedder } from '@engram/embedders/default';
import type { TenantMemoryFactory } from '../auth/tenant-memories.js';
import { LOCAL_TENANT } from '../auth/tenant-name.js';

/** Where the server's memories live; each tenant gets its own file or schema from it. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string };

/** Postgres schema of the `local` tenant (the adapter's default), and the prefix of the others. */
export const DEFAULT_SCHEMA = 'engram';

/**
 * Where one tenant's store is: the `local` tenant (anonymous mode) uses the base file or the
 * default schema itself, so a laptop store keeps its memories once keys are added for `local`;
 * tenant `t` uses `<name>.tenants/t.db` beside the base file, or the schema `engram_t_t`.
 */
export function tenantStoreLocation(
  base: StoreLocation,
  tenant: string,
): { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string; schema: string } {
  if (base.kind === 'postgres') return { ...base, schema: tenant === LOCAL_TENANT ? DEFAULT_SCHEMA : `${DEFAULT_SCHEMA}_t_${tenant}` };
  if (base.path === ':memory:' || tenant === LOCAL_TENANT) return base;
  const name = basename(base.path, extname(base.path));
  return { kind: 'sqlite', path: join(dirname(base.path), `${name}.tenants`, `${tenant}.db`) };
}

/** The default key file of a SQLite store: `<name>.keys.json` beside it. */
export function defaultKeyFile(base: StoreLocation): string | undefined {
  if (base.kind !== 'sqlite' || base.path === ':memory:') return undefined;
  return join(dirname(base.path), `${basename(base.path, extname(base.path))}.keys.json`);
}

interface PostgresModule {
  postgresStore(options: { connectionString: string; schema: string }): MemoryStore;
}

// A variable specifier: the Postgres adapter and its driver are optional.
const POSTGRES_ADAPTER = '@engram/adapters/postgres';

async function openStore(location: ReturnType<typeof tenantStoreLocation>): Promise<MemoryStore> {
  if (location.kind === 'sqlite') {
    let module: typeof import('@engram/adapters/sqlite');
    try {
      module = await import('@engram/adapters/sqlite');
    } catch (error) {
      throw new AdapterError('sqlite', 'load', error, 'Install the SQLite peers: npm install better-sqlite3 kysely sqlite-vec');
    }
    return module.sqliteStore({ path: location.path });
  }
  let module: Partial<PostgresModule>;
  try {
    module = (await import(POSTGRES_ADAPTER)) as Partial<PostgresModule>;
  } catch (error) {
    throw new AdapterError('postgres', 'load', error, 'Install the Postgres driver (npm install pg) or serve a SQLite file with --path');
  }
  if (typeof module.postgresStore !== 'function')
    throw new AdapterError('postgres', 'load', new Error('no postgresStore export'), 'Upgrade @engram/adapters');
  return module.postgresStore({ connectionString: location.connectionString, schema: location.schema });
}

export interface TenantMemoryFactoryOptions {
  store: StoreLocation;
  /** Embedder of new stores: auto, hash, transformers, transformers:<model>. A store keeps the one it was built with. */
  embedder?: string;
  /** The language model of `POST /api/memories` with `infer: true`, shared by every tenant (nothing is cached across them). */
  model?: LanguageModel;
  /** Keys of sensitive memories (`sensitive: true`), shared by every tenant. Default: none (sensitive writes answer 400). */
  encryption?: EncryptionOptions;
  /**
   * Folder of the consolidation archives: tenant `t` appends what consolidation forgets to
   * `<folder>/t.archive.jsonl`. Default: beside each tenant's SQLite file (`t.db` → `t.archive.jsonl`,
   * the base `memory.db` → `memory.archive.jsonl`, as `engram consolidate` does); a Postgres store
   * has no archive without it, so applying forgetting there answers 400.
   */
  archiveDirectory?: string;
  /** How long searches' access statistics are gathered before one write (ms). Default: core's, 1,000; 0 writes after each search. */
  accessFlushMs?: number;
  log?: (message: string) => void;
}

/** Where tenant `tenant` archives what consolidation forgets, or undefined when it has nowhere to. */
export function tenantArchivePath(base: StoreLocation, tenant: string, archiveDirectory?: string): string | undefined {
  if (archiveDirectory !== undefined) return join(archiveDirectory, `${tenant}.archive.jsonl`);
  const location = tenantStoreLocation(base, tenant);
  if (location.kind !== 'sqlite' || location.path === ':memory:') return undefined;
  return archivePathFor(location.path);
}

/** One `Memory` per tenant, each on its own store (see `tenantStoreLocation`) with its own consolidation archive. */
export function tenantMemoryFactory(options: TenantMemoryFactoryOptions): TenantMemoryFactory {
  const log = options.log ?? (() => {});
  return async (tenant) => {
    const store = await openStore(tenantStoreLocation(options.store, tenant));
    const archive = tenantArchivePath(options.store, tenant, options.archiveDirectory);
    const memory = new Memory({
      store,
      embedder: defaultEmbedder({ choice: options.embedder ?? 'auto', log }),
      logger: log,
      ingestion: { pdf: unpdfReader },
      ...(options.accessFlushMs !== undefined ? { accessStatistics: { flushIntervalMs: options.accessFlushMs } } : {}),
      ...(options.model ? { model: options.model } : {}),
      ...(options.encryption ? { encryption: options.encryption } : {}),
      ...(archive ? { consolidation: { archive: jsonlArchive({ path: archive }) } } : {}),
    });
    await memory.ready();
    return memory;
  };
}
