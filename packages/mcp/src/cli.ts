import { parseArgs } from 'node:util';
import { EngramError } from '@engram/core';
import type { EngramMcpConfig } from './config.js';
import { parseDuration } from './consolidation-schedule.js';
import { VERSION } from './version.js';

export const USAGE = `engram-mcp ${VERSION}: Engram memory as an MCP server (tools for Claude Code, Claude Desktop, Cursor, …)

Usage:
  engram-mcp [options]                       serve over stdio (what MCP clients launch)
  engram-mcp --http [--port 8765] [--host 127.0.0.1] [--token <secret>]
                                             serve Streamable HTTP at http://<host>:<port>/mcp
  engram-mcp hooks install [--global]        add Engram's SessionStart and Stop hooks to Claude Code
  engram-mcp hooks uninstall [--global]      remove them
  engram-mcp hook session-start|stop         run one hook (Claude Code calls this; reads its JSON on stdin)

Options:
  --path <file>        SQLite file (default: $ENGRAM_PATH, else ./.engram/memory.db;
                       ~/.engram/memory.db when started from the file-system root)
  --pg-url <url>       use Postgres instead (default: $ENGRAM_PG_URL)
  --embedder <choice>  embedder for a new store: auto, hash, transformers, transformers:<model id>
                       (default: $ENGRAM_EMBEDDER, else auto). A store keeps the one it was built with.
  --user-id <id>       default user_id of every tool call (default: $ENGRAM_USER_ID)
  --agent-id <id>      default agent_id of every tool call (default: $ENGRAM_AGENT_ID)
  --compat             also expose the tool names of mcp-memory-service and mem0's MCP server
                       (default: $ENGRAM_MCP_COMPAT=1)
  --http               serve Streamable HTTP instead of stdio
  --host <address>     HTTP interface (default 127.0.0.1); any non-loopback address needs a token
  --port <number>      HTTP port (default 8765; 0 = any free port)
  --token <secret>     HTTP bearer token clients must send (default: $ENGRAM_MCP_TOKEN)
  --keys-file <file>   HTTP: API keys → tenants, as engram keys create writes them (default: $ENGRAM_KEYS_FILE,
                       else <name>.keys.json beside the SQLite file; also $ENGRAM_API_KEYS). With keys, each
                       key's tenant bounds every tool call, whatever user_id it sends
  --consolidate-every <duration>
                       HTTP: apply consolidation every 24h, 30m… (forgotten memories are archived first)
  --allow-ingest <dir> let memory_ingest read files in this folder (repeatable; default: text only)
  --archive <file>     where consolidation archives forgotten memories (default: $ENGRAM_ARCHIVE,
                       else <store>.archive.jsonl beside a SQLite file)
  --global             hooks: write ~/.claude/settings.json instead of <project>/.claude/settings.json
  --command <cmd>      hooks install: the command hooks run (default: engram-mcp when the PATH leads
                       to this install, else node and its bin script by absolute path)
  -h, --help           show this help
  -V, --version        show the version
`;

const OPTIONS = {
  path: { type: 'string' },
  'pg-url': { type: 'string' },
  embedder: { type: 'string' },
  'user-id': { type: 'string' },
  'agent-id': { type: 'string' },
  compat: { type: 'boolean' },
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  'keys-file': { type: 'string' },
  'consolidate-every': { type: 'string' },
  archive: { type: 'string' },
  'allow-ingest': { type: 'string', multiple: true },
  global: { type: 'boolean' },
  command: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** A command line that cannot run: exit code 2, with the message and a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ParsedCommand =
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'serve'; options: McpServerArguments }
  | { command: 'hook'; event: 'session-start' | 'stop'; options: EngramMcpConfig }
  | { command: 'hooks-install' | 'hooks-uninstall'; global: boolean; hookCommand?: string; options: EngramMcpConfig };

/** What `engram-mcp [options]` (and `engram mcp [options]`) asks for, as `startMcpServer` options. */
export interface McpServerArguments extends EngramMcpConfig {
  transport: 'stdio' | 'http';
  host?: string;
  port?: number;
  token?: string;
  keysFile?: string;
  compat?: boolean;
  consolidateEvery?: number;
  allowIngest?: string[];
}

/**
 * Parses engram-mcp's arguments (without `node` and the script). Throws a UsageError for unknown
 * options, missing values and options that do not apply to the command.
 */
export function parseCommandLine(args: readonly string[]): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const config: EngramMcpConfig = {};
  if (values.path !== undefined) config.path = values.path;
  if (values['pg-url'] !== undefined) config.postgresUrl = values['pg-url'];
  if (values.embedder !== undefined) config.embedder = values.embedder;
  if (values['user-id'] !== undefined) config.userId = values['user-id'];
  if (values['agent-id'] !== undefined) config.agentId = values['agent-id'];
  if (values.archive !== undefined) config.archivePath = values.archive;

  const [first, second, ...rest] = positionals;
  const refuse = (names: Array<keyof typeof OPTIONS>, what: string) => {
    for (const name of names) if (values[name] !== undefined) throw new UsageError(`--${name} does not apply to ${what}`);
  };
  if (first === undefined || first === 'serve') {
    if (first === 'serve' && second !== undefined) throw new UsageError(`unexpected argument "${second}"`);
    refuse(['global', 'command'], 'the server');
    if (!values.http) refuse(['host', 'port', 'token', 'keys-file', 'consolidate-every'], 'stdio: add --http');
    let consolidateEvery: number | undefined;
    if (values['consolidate-every'] !== undefined) {
      const parsed = parseDuration(values['consolidate-every']);
      if (parsed === null)
        throw new UsageError(
          `--consolidate-every must be a duration of at least a minute such as 24h, 30m or 7d (got "${values['consolidate-every']}")`,
        );
      consolidateEvery = parsed;
    }
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!/^\d+$/.test(values.port) || port > 65_535)
        throw new UsageError(`--port must be an integer from 0 to 65535 (got "${values.port}")`);
    }
    return {
      command: 'serve',
      options: {
        ...config,
        transport: values.http ? 'http' : 'stdio',
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(values.token !== undefined ? { token: values.token } : {}),
        ...(values['keys-file'] !== undefined ? { keysFile: values['keys-file'] } : {}),
        ...(values.compat ? { compat: true } : {}),
        ...(consolidateEvery !== undefined ? { consolidateEvery } : {}),
        ...(values['allow-ingest'] ? { allowIngest: values['allow-ingest'] } : {}),
      },
    };
  }
  if (first === 'hook') {
    if (second !== 'session-start' && second !== 'stop')
      throw new UsageError('hook needs an event: engram-mcp hook session-start | engram-mcp hook stop');
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    refuse(
      ['http', 'host', 'port', 'token', 'keys-file', 'compat', 'global', 'command', 'consolidate-every', 'archive', 'allow-ingest'],
      'a hook',
    );
    return { command: 'hook', event: second, options: config };
  }
  if (first === 'hooks') {
    if (second !== 'install' && second !== 'uninstall')
      throw new UsageError('hooks needs an action: engram-mcp hooks install [--global] | engram-mcp hooks uninstall [--global]');
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    refuse(
      [
        'http',
        'host',
        'port',
        'token',
        'keys-file',
        'compat',
        'embedder',
        'user-id',
        'agent-id',
        'pg-url',
        'consolidate-every',
        'archive',
        'allow-ingest',
      ],
      `hooks ${second}`,
    );
    if (second === 'uninstall') refuse(['command', 'path'], 'hooks uninstall');
    return {
      command: second === 'install' ? 'hooks-install' : 'hooks-uninstall',
      global: values.global ?? false,
      ...(values.command !== undefined ? { hookCommand: values.command } : {}),
      options: config,
    };
  }
  throw new UsageError(`unknown command "${first}"`);
}

/** The message for an error that stops the process: what went wrong and what to do. */
export function describeFatal(error: unknown): string {
  if (error instanceof UsageError) return `${error.message}\n(run engram-mcp --help for usage)`;
  if (EngramError.isInstance(error)) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
