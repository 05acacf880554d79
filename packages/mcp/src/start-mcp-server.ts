import type { Memory } from '@engram/core';
import { ValidationError } from '@engram/core';
import { describeStore, type EngramMcpConfig, type Environment, fromEnvironment, type ResolvedConfig, resolveConfig } from './config.js';
import { scheduleConsolidation } from './consolidation-schedule.js';
import { checkEmbedderChoice, createMemory, encryptionFromEnvironment } from './create-memory.js';
import { defaultLog } from './engram-mcp-server.js';
import { LazyMemory } from './memory-source.js';
import { isLoopback } from './transports/loopback.js';
import { type TenantMemorySource, TenantUnavailableError } from './transports/tenant-memory-source.js';

export const DEFAULT_HTTP_PORT = 8765;
export const DEFAULT_HTTP_HOST = '127.0.0.1';

export interface StartMcpServerOptions extends EngramMcpConfig {
  /** 'stdio' (default) or 'http' (Streamable HTTP at /mcp). */
  transport?: 'stdio' | 'http';
  /** HTTP: interface to bind. Default 127.0.0.1. Anything but loopback requires a token. */
  host?: string;
  /** HTTP: port. Default 8765; 0 picks a free one (see `url` on the result). */
  port?: number;
  /** HTTP: bearer token clients must send. Default: ENGRAM_MCP_TOKEN. It serves the default store (tenant "local"). */
  token?: string;
  /**
   * HTTP: API keys mapped to tenants, as the REST server takes them (tenant → key). Default:
   * ENGRAM_API_KEYS. With keys, every request needs one, and its tenant bounds every tool call:
   * each tenant has its own store, whatever user_id a call sends.
   */
  keys?: Record<string, string | string[]>;
  /** HTTP: the key file of `engram keys create`. Default: ENGRAM_KEYS_FILE, else `<name>.keys.json` beside the SQLite file. */
  keysFile?: string;
  /** Also register the reference servers' tool names. Default: ENGRAM_MCP_COMPAT=1. */
  compat?: boolean;
  /** Serve this memory instead of building one from path / postgresUrl / the environment. */
  memory?: Memory;
  /** Open the store and load the embedder right after start-up instead of on the first call. Default true. */
  warmUp?: boolean;
  /** Default: process.env. */
  env?: Environment;
  /** Base of a relative SQLite path. Default: process.cwd(). */
  cwd?: string;
  /** Diagnostics. Default: stderr. */
  log?: (message: string) => void;
  /**
   * HTTP: apply `consolidate()` this often (milliseconds, at least one minute), archiving what
   * it forgets (see `archivePath`). Off by default.
   */
  consolidateEvery?: number;
  /** Folders memory_ingest may read files from. Default none (text only). */
  allowIngest?: string[];
}

export interface McpServerHandle {
  transport: 'stdio' | 'http';
  /** HTTP: the endpoint, e.g. http://127.0.0.1:8765/mcp. */
  url?: string;
  /** Settles when the server has stopped (stdio: the client closed stdin). */
  closed: Promise<void>;
  /** Stops serving and closes the store (a `memory` passed in stays open). */
  close(): Promise<void>;
  /** HTTP with `consolidateEvery`: runs the scheduled consolidation now (what the timer does). */
  consolidateNow?(): Promise<void>;
}

/**
 * Starts the Engram MCP server and resolves once it accepts requests. The store and embedder
 * load after the client's `initialize` (or on the first tool call), never before it: clients
 * time out on slow starts. Bad configuration (a bad port, a public host without a token, an
 * unknown embedder) rejects with a ValidationError naming the option.
 */
export async function startMcpServer(options: StartMcpServerOptions = {}): Promise<McpServerHandle> {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const config = resolveConfig(options, env, options.cwd);
  checkEmbedderChoice(config.embedder);
  const compat = options.compat ?? ['1', 'true', 'yes'].includes(fromEnvironment(env, 'ENGRAM_MCP_COMPAT')?.toLowerCase() ?? '');
  const memory = new LazyMemory(options.memory ?? (() => createMemory(config, log)));
  const server = { memory, defaults: config.defaults, compat, log, ...(options.allowIngest ? { allowIngest: options.allowIngest } : {}) };
  const warmUp = options.warmUp ?? true;
  const where = options.memory ? 'the given memory' : describeStore(config);

  if ((options.transport ?? 'stdio') === 'stdio') {
    const { serveStdio } = await import('./transports/stdio-transport.js');
    const handle = await serveStdio(server, { warmUp });
    log(`serving ${where} over stdio${compat ? ' (with compatibility tools)' : ''}`);
    return handle;
  }

  const host = options.host ?? DEFAULT_HTTP_HOST;
  const port = options.port ?? DEFAULT_HTTP_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ValidationError([{ field: 'port', message: `must be an integer from 0 to 65535 (got ${port})` }]);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.trim().length === 0)) {
    // A blank token would start a server no client can authenticate to (the header value is trimmed).
    throw new ValidationError([
      { field: 'token', message: 'is blank: pass a long random secret (e.g. `openssl rand -hex 32`), or leave it out on loopback' },
    ]);
  }
  const token = options.token?.trim() ?? fromEnvironment(env, 'ENGRAM_MCP_TOKEN');
  const { apiKeys, defaultKeyFile, parseApiKeysVariable } = await import('@engram/rest');
  const keys = options.keys ?? parseApiKeysVariable(fromEnvironment(env, 'ENGRAM_API_KEYS'));
  const keysFile =
    options.keysFile ??
    fromEnvironment(env, 'ENGRAM_KEYS_FILE') ??
    (options.memory
      ? undefined
      : defaultKeyFile(
          config.store.kind === 'sqlite' ? config.store : { kind: 'postgres', connectionString: config.store.connectionString },
        ));
  const authenticator = apiKeys({ ...(keys ? { keys } : {}), ...(keysFile ? { file: keysFile } : {}) });
  const keyed = await authenticator.configured();
  if (!token && !keyed && !isLoopback(host)) {
    throw new ValidationError([
      {
        field: 'token',
        message: `is required to listen on ${host}, which is reachable from other machines: create API keys (engram keys create --tenant <name>) or set ENGRAM_MCP_TOKEN (or --token) to a long random secret, or bind 127.0.0.1`,
      },
    ]);
  }
  const every = options.consolidateEvery;
  if (every !== undefined && !(Number.isFinite(every) && every >= 60_000)) {
    throw new ValidationError([{ field: 'consolidateEvery', message: `must be at least one minute, in milliseconds (got ${every})` }]);
  }
  const { serveHttp } = await import('./transports/http-transport.js');
  const tenantMemory = await tenantMemorySource(options.memory ? undefined : config, memory, log);
  const handle = await serveHttp(server, {
    host,
    port,
    ...(token ? { token } : {}),
    warmUp,
    authenticator,
    tenantMemory,
  });
  const access = keyed ? ' (API keys required; each key sees its own tenant only)' : token ? ' (bearer token required)' : '';
  log(`serving ${where} at ${handle.url}${access}${compat ? ' (with compatibility tools)' : ''}`);
  if (every === undefined) return handle;
  let stop: () => void;
  let run: () => Promise<void>;
  if (keyed) {
    // Each tenant has its own store and archive: the REST server's schedule covers every tenant with a key.
    const { consolidationTenants, scheduleTenantConsolidation } = await import('@engram/rest');
    const schedule = scheduleTenantConsolidation({
      everyMs: every,
      tenants: () => consolidationTenants(authenticator),
      memoryOf: async (tenant) => ({ memory: await tenantMemory.get(tenant), release: async () => {} }),
      log,
    });
    stop = schedule.stop;
    run = schedule.run;
    log(`consolidating every tenant's store every ${Math.round(every / 60_000)} min (each into its own archive)`);
  } else {
    const schedule = scheduleConsolidation(memory, every, log);
    stop = schedule;
    run = schedule.run;
    log(`consolidating every ${Math.round(every / 60_000)} min`);
  }
  void handle.closed.then(stop);
  return {
    ...handle,
    close: async () => {
      stop();
      await handle.close();
    },
    consolidateNow: run,
  };
}

/**
 * Tenant → Memory for keyed HTTP: the `local` tenant is the store this server was started on;
 * every other tenant has a store of its own (laid out as the REST server lays them out). With a
 * `Memory` passed in there is no layout to follow: only `local` is served.
 */
async function tenantMemorySource(
  config: ResolvedConfig | undefined,
  local: LazyMemory,
  log: (message: string) => void,
): Promise<TenantMemorySource> {
  const { tenantMemoryFactory } = await import('@engram/rest');
  // Each tenant archives what consolidation forgets to its own file: beside its SQLite store, or,
  // with --archive (ENGRAM_ARCHIVE), in `<archive name>.tenants/` beside that file.
  const archiveDirectory = config?.archivePath ? `${config.archivePath.replace(/\.jsonl$/i, '')}.tenants` : undefined;
  const encryption = encryptionFromEnvironment(process.env);
  const others = config
    ? tenantMemoryFactory({
        store: config.store,
        embedder: config.embedder,
        ...(encryption ? { encryption } : {}),
        ...(archiveDirectory ? { archiveDirectory } : {}),
        log,
      })
    : undefined;
  const built = new Map<string, Promise<Memory>>();
  return {
    get(tenant: string): Promise<Memory> {
      if (tenant === 'local') return local.get();
      if (!others) return Promise.reject(new TenantUnavailableError(tenant));
      let pending = built.get(tenant);
      if (!pending) {
        pending = Promise.resolve(others(tenant));
        pending.catch(() => built.delete(tenant));
        built.set(tenant, pending);
      }
      return pending;
    },
    async close(): Promise<void> {
      const memories = await Promise.all([...built.values()].map((pending) => pending.catch(() => undefined)));
      built.clear();
      await Promise.allSettled(memories.map((memory) => memory?.close()));
    },
  };
}
