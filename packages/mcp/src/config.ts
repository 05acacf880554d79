import { homedir } from 'node:os';
import { isAbsolute, parse, resolve } from 'node:path';
import { type LanguageModel, ValidationError } from '@engram/core';
import { modelFromEnvironment } from '@engram/models';

/** Where the server keeps its SQLite file unless told otherwise (the same default as `new Memory()`). */
export const DEFAULT_PATH = './.engram/memory.db';

/** How to reach the store, the embedder choice and the default scope. Flags win over the environment. */
export interface EngramMcpConfig {
  /** SQLite file. Default: ENGRAM_PATH, else ./.engram/memory.db (see `resolveConfig`). */
  path?: string;
  /** Postgres connection string: use Postgres instead of SQLite. Default: ENGRAM_PG_URL. */
  postgresUrl?: string;
  /** Embedder for a new store: auto, hash, transformers, transformers:<model id>. Default: ENGRAM_EMBEDDER, else auto. */
  embedder?: string;
  /** Default `user_id` of every tool call. Default: ENGRAM_USER_ID. */
  userId?: string;
  /** Default `agent_id` of every tool call. Default: ENGRAM_AGENT_ID. */
  agentId?: string;
  /** JSON Lines file memory_consolidate archives forgotten memories to. Default: ENGRAM_ARCHIVE, else beside a SQLite file. */
  archivePath?: string;
}

export interface ResolvedConfig {
  store: { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string };
  embedder: string;
  defaults: { userId?: string; agentId?: string };
  /** For memory_store `infer` and the Stop hook: from ENGRAM_MODEL / ENGRAM_MODEL_URL / ENGRAM_MODEL_KEY. */
  model?: LanguageModel;
  archivePath?: string;
}

export type Environment = Record<string, string | undefined>;

/** An environment variable, with empty and blank values treated as unset. */
export function fromEnvironment(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Fills the configuration from the environment. A relative SQLite path is resolved against `cwd`;
 * the default path moves to the home folder when `cwd` is the file-system root, where clients
 * such as Claude Desktop start servers and nothing can be written.
 */
export function resolveConfig(config: EngramMcpConfig, env: Environment = process.env, cwd = process.cwd()): ResolvedConfig {
  const defaults: ResolvedConfig['defaults'] = {};
  const userId = config.userId ?? fromEnvironment(env, 'ENGRAM_USER_ID');
  const agentId = config.agentId ?? fromEnvironment(env, 'ENGRAM_AGENT_ID');
  if (userId) defaults.userId = userId;
  if (agentId) defaults.agentId = agentId;
  const embedder = config.embedder ?? fromEnvironment(env, 'ENGRAM_EMBEDDER') ?? 'auto';
  const model = modelFromEnvironment(env);
  const archive = config.archivePath ?? fromEnvironment(env, 'ENGRAM_ARCHIVE');
  const archivePath = archive ? { archivePath: isAbsolute(archive) ? archive : resolve(cwd, expandHome(archive)) } : {};
  if (config.path !== undefined && config.postgresUrl !== undefined) {
    throw new ValidationError([
      { field: 'path', message: 'and a Postgres URL were both given: pass one store, --path <file> or --pg-url <url>' },
    ]);
  }
  // An explicit --path beats ENGRAM_PG_URL from the environment.
  const postgresUrl = config.postgresUrl ?? (config.path === undefined ? fromEnvironment(env, 'ENGRAM_PG_URL') : undefined);
  if (postgresUrl)
    return { store: { kind: 'postgres', connectionString: postgresUrl }, embedder, defaults, ...(model ? { model } : {}), ...archivePath };
  const given = config.path ?? fromEnvironment(env, 'ENGRAM_PATH');
  let path: string;
  if (given === ':memory:') path = given;
  else if (given) path = isAbsolute(given) ? given : resolve(cwd, expandHome(given));
  else path = parse(resolve(cwd)).root === resolve(cwd) ? resolve(homedir(), '.engram', 'memory.db') : resolve(cwd, DEFAULT_PATH);
  return { store: { kind: 'sqlite', path }, embedder, defaults, ...(model ? { model } : {}), ...archivePath };
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

/** A connection string with its password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparseable connection string)';
  }
}

/** Where the store lives, for messages. */
export function describeStore(config: ResolvedConfig): string {
  return config.store.kind === 'sqlite' ? `sqlite ${config.store.path}` : `postgres ${redactUrl(config.store.connectionString)}`;
}
