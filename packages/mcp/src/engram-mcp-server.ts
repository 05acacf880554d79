import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerMemoryGuide, SERVER_INSTRUCTIONS } from './memory-guide.js';
import { LazyMemory, type MemorySource } from './memory-source.js';
import { compatTools } from './tools/compat-tools.js';
import { consolidationTools } from './tools/consolidation-tool.js';
import { erasureTools } from './tools/erasure-tools.js';
import { graphTools } from './tools/graph-tools.js';
import { ingestTools } from './tools/ingest-tool.js';
import { memoryTools } from './tools/memory-tools.js';
import { reindexTools } from './tools/reindex-tool.js';
import { statsTools } from './tools/stats-tool.js';
import { type AnyToolDefinition, registerTools, type ScopeDefaults } from './tools/tool-kit.js';
import { VERSION } from './version.js';

export interface EngramMcpServerOptions {
  /** The memory to serve: a `Memory`, or a function building one on first use (so the server starts fast). */
  memory: MemorySource | LazyMemory;
  /** Default scope of every tool call; each call may override it with user_id / agent_id / run_id. */
  defaults?: ScopeDefaults;
  /** Also register the tool names of the reference servers (store_memory, add_memory, …). */
  compat?: boolean;
  /** Where diagnostics go. Default: stderr (stdout carries the protocol in stdio mode). */
  log?: (message: string) => void;
  /** Folders memory_ingest may read files from. Default none: it takes text only. */
  allowIngest?: readonly string[];
}

/** The primary tools, in the order clients list them. */
export const TOOLS: readonly AnyToolDefinition[] = [
  ...memoryTools,
  ...graphTools,
  ...statsTools,
  ...erasureTools,
  ...consolidationTools,
  ...ingestTools,
  ...reindexTools,
];

export const defaultLog = (message: string): void => {
  process.stderr.write(`[engram-mcp] ${message}\n`);
};

/**
 * An MCP server exposing Engram's tools and the memory_guide prompt, not yet connected:
 * `await createEngramMcpServer({ memory }).connect(transport)`. Writes go through `Memory`, so
 * they emit the same events as SDK writes.
 */
export function createEngramMcpServer(options: EngramMcpServerOptions): McpServer {
  const memory = options.memory instanceof LazyMemory ? options.memory : new LazyMemory(options.memory);
  const log = options.log ?? defaultLog;
  const server = new McpServer({ name: 'engram', title: 'Engram memory', version: VERSION }, { instructions: SERVER_INSTRUCTIONS });
  const context = { memory: () => memory.get(), defaults: { ...options.defaults }, log, allowIngest: options.allowIngest ?? [] };
  registerTools(server, options.compat ? [...TOOLS, ...compatTools] : [...TOOLS], context);
  registerMemoryGuide(server);
  return server;
}
