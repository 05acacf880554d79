import type { Memory } from '@engram/core';
import { ValidationError } from '@engram/core';
import { describeStore, type EngramMcpConfig, type Environment, fromEnvironment, resolveConfig } from './config.js';
import { checkEmbedderChoice, createMemory } from './create-memory.js';
import { defaultLog } from './engram-mcp-server.js';
import { LazyMemory } from './memory-source.js';
import { isLoopback } from './transports/loopback.js';

export const DEFAULT_HTTP_PORT = 8765;
export const DEFAULT_HTTP_HOST = '127.0.0.1';

export interface StartMcpServerOptions extends EngramMcpConfig {
  /** 'stdio' (default) or 'http' (Streamable HTTP at /mcp). */
  transport?: 'stdio' | 'http';
  /** HTTP: interface to bind. Default 127.0.0.1. Anything but loopback requires a token. */
  host?: string;
  /** HTTP: port. Default 8765; 0 picks a free one (see `url` on the result). */
  port?: number;
  /** HTTP: bearer token clients must send. Default: ENGRAM_MCP_TOKEN. */
  token?: string;
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
}

export interface McpServerHandle {
  transport: 'stdio' | 'http';
  /** HTTP: the endpoint, e.g. http://127.0.0.1:8765/mcp. */
  url?: string;
  /** Settles when the server has stopped (stdio: the client closed stdin). */
  closed: Promise<void>;
  /** Stops serving and closes the store (a `memory` passed in stays open). */
  close(): Promise<void>;
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
  const server = { memory, defaults: config.defaults, compat, log };
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
  const token = options.token ?? fromEnvironment(env, 'ENGRAM_MCP_TOKEN');
  if (!token && !isLoopback(host)) {
    throw new ValidationError([
      {
        field: 'token',
        message: `is required to listen on ${host}, which is reachable from other machines: set ENGRAM_MCP_TOKEN (or --token) to a long random secret, or bind 127.0.0.1`,
      },
    ]);
  }
  const { serveHttp } = await import('./transports/http-transport.js');
  const handle = await serveHttp(server, { host, port, ...(token ? { token } : {}), warmUp });
  log(`serving ${where} at ${handle.url}${token ? ' (bearer token required)' : ''}${compat ? ' (with compatibility tools)' : ''}`);
  return handle;
}
