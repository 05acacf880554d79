import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { estimateTokens, type Memory, type MemoryRecord } from '@engram/core';
import { type EngramMcpConfig, type Environment, fromEnvironment, resolveConfig } from '../config.js';
import { createMemory } from '../create-memory.js';
import { harvestTranscript } from './harvest.js';
import { currentBranch, projectOf, projectTag } from './project.js';
import { extractSessionNotes, readTranscript } from './transcript.js';

export type ClaudeCodeHookEvent = 'session-start' | 'stop';

export const CLAUDE_CODE_HOOK_EVENTS: readonly ClaudeCodeHookEvent[] = ['session-start', 'stop'];

/** How long each hook may work before giving up (under the timeout written to settings.json). */
export const HOOK_DEADLINE_MS: Record<ClaudeCodeHookEvent, number> = { 'session-start': 10_000, stop: 25_000 };

export interface RunClaudeCodeHookOptions extends EngramMcpConfig {
  /** The JSON Claude Code sends on stdin (text or parsed). */
  input?: string | Record<string, unknown>;
  /** Use this memory (left open) instead of building one from the configuration. */
  memory?: Memory;
  /** Default: process.env. */
  env?: Environment;
  /** Working folder when the input has no `cwd`. Default: process.cwd(). */
  cwd?: string;
  /** Give up (silently) after this long. Default: HOOK_DEADLINE_MS, or ENGRAM_HOOK_TIMEOUT_MS. */
  timeoutMs?: number;
  /** SessionStart: largest context injected, in tokens. Default 1200. */
  tokenBudget?: number;
  /** Diagnostics. Default: stderr. */
  log?: (message: string) => void;
}

export interface ClaudeCodeHookResult {
  /** What to print on stdout (SessionStart: the hook JSON; empty when there is nothing to add). */
  stdout: string;
  /** SessionStart: the memories injected. Stop: the memories written. */
  memoryIds: string[];
}

interface HookInput {
  session_id?: unknown;
  transcript_path?: unknown;
  cwd?: unknown;
  source?: unknown;
}

function parseInput(input: RunClaudeCodeHookOptions['input']): HookInput {
  if (input === undefined) return {};
  if (typeof input !== 'string') return input;
  if (!input.trim()) return {};
  try {
    const parsed = JSON.parse(input) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as HookInput) : {};
  } catch {
    return {};
  }
}

/**
 * Runs one Claude Code hook. Never throws and never blocks the session: errors and timeouts are
 * logged to stderr and produce no output (hooks are helpers, not gates).
 */
export async function runClaudeCodeHook(event: ClaudeCodeHookEvent, options: RunClaudeCodeHookOptions = {}): Promise<ClaudeCodeHookResult> {
  const log = options.log ?? ((message: string) => process.stderr.write(`[engram hook ${event}] ${message}\n`));
  const env = options.env ?? process.env;
  const configured = Number(fromEnvironment(env, 'ENGRAM_HOOK_TIMEOUT_MS'));
  const deadline = options.timeoutMs ?? (Number.isFinite(configured) && configured > 0 ? configured : HOOK_DEADLINE_MS[event]);
  const nothing: ClaudeCodeHookResult = { stdout: '', memoryIds: [] };
  let timer: NodeJS.Timeout | undefined;
  // Cancels a model call still running at the deadline (Stop with ENGRAM_MODEL).
  const cancel = new AbortController();
  const timeout = new Promise<ClaudeCodeHookResult>((resolveTimeout) => {
    timer = setTimeout(() => {
      cancel.abort(new Error(`gave up after ${deadline} ms`));
      log(`gave up after ${deadline} ms`);
      resolveTimeout(nothing);
    }, deadline);
    timer.unref?.();
  });
  const work = (event === 'session-start' ? sessionStart(options, env, log) : stop(options, env, log, cancel.signal)).catch(
    (error: unknown) => {
      log(error instanceof Error ? error.message : String(error));
      return nothing;
    },
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function withMemory<T>(
  options: RunClaudeCodeHookOptions,
  env: Environment,
  cwd: string,
  log: (message: string) => void,
  use: (memory: Memory) => Promise<T>,
  onlyIfExists: boolean,
): Promise<T | undefined> {
  if (options.memory) return use(options.memory);
  const config = resolveConfig(options, env, cwd);
  // Starting a session must not create a store: with no file yet there is nothing to inject.
  if (onlyIfExists && config.store.kind === 'sqlite' && config.store.path !== ':memory:' && !existsSync(config.store.path))
    return undefined;
  const memory = await createMemory(config, log);
  try {
    return await use(memory);
  } finally {
    // With ENGRAM_SYNC_URL: push what the hook wrote, waiting 1.5 s at most (the rest stays queued).
    await memory.sync.flush({ timeoutMs: 1500 });
    await memory.close().catch(() => {});
  }
}

/**
 * The folder the session belongs to: CLAUDE_PROJECT_DIR (where Claude Code started, also the
 * MCP server's working folder, so a relative store path means the same file), else the input's cwd.
 */
function cwdOf(input: HookInput, options: RunClaudeCodeHookOptions, env: Environment): string {
  const projectDir = fromEnvironment(env, 'CLAUDE_PROJECT_DIR');
  if (projectDir) return resolve(projectDir);
  return typeof input.cwd === 'string' && input.cwd ? resolve(input.cwd) : resolve(options.cwd ?? process.cwd());
}

function scopeOf(options: RunClaudeCodeHookOptions, env: Environment) {
  const userId = options.userId ?? fromEnvironment(env, 'ENGRAM_USER_ID');
  const agentId = options.agentId ?? fromEnvironment(env, 'ENGRAM_AGENT_ID');
  return { ...(userId ? { userId } : {}), ...(agentId ? { agentId } : {}) };
}

function contextLine(record: MemoryRecord): string {
  const label = record.subtype ? `${record.type}/${record.subtype}` : record.type;
  const tags = record.tags.length > 0 ? ` #${record.tags.join(' #')}` : '';
  return `- [${label}, ${record.createdAt.toISOString().slice(0, 10)}] ${record.content.replace(/\s+/g, ' ').trim()}${tags}`;
}

// ---------------------------------------------------------------- SessionStart

async function sessionStart(
  options: RunClaudeCodeHookOptions,
  env: Environment,
  log: (message: string) => void,
): Promise<ClaudeCodeHookResult> {
  const input = parseInput(options.input);
  const cwd = cwdOf(input, options, env);
  const project = projectOf(cwd);
  const tag = projectTag(project.name);
  const budget = options.tokenBudget ?? 1200;
  const scope = scopeOf(options, env);
  const picked = await withMemory(
    options,
    env,
    cwd,
    log,
    async (memory) => {
      const ordered = new Map<string, MemoryRecord>();
      const add = (records: MemoryRecord[]) => {
        for (const record of records) if (!ordered.has(record.id)) ordered.set(record.id, record);
      };
      // This project's own records first, then what matches the project by name and branch,
      // then the latest decisions and learnings.
      add((await memory.list({ scope, tags: [tag], limit: 8 })).items);
      const branch = currentBranch(project.root);
      const query = [project.name, branch && !/^(main|master|trunk|develop)$/.test(branch) ? branch.replace(/[-_/]+/g, ' ') : '']
        .join(' ')
        .trim();
      add((await memory.search(query, { scope, limit: 10 })).map((hit) => hit.memory));
      add((await memory.list({ scope, types: ['decision', 'learning', 'pattern'], limit: 10 })).items);
      return [...ordered.values()];
    },
    true,
  );
  if (!picked || picked.length === 0) return { stdout: '', memoryIds: [] };

  const header = `Engram memories for project "${project.name}" (from earlier sessions; the engram MCP tools memory_search and memory_store find and add more):`;
  const lines: string[] = [];
  const ids: string[] = [];
  let tokens = estimateTokens(header);
  for (const record of picked) {
    const line = contextLine(record);
    const cost = estimateTokens(`\n${line}`);
    if (tokens + cost > budget) continue;
    lines.push(line);
    ids.push(record.id);
    tokens += cost;
  }
  if (lines.length === 0) return { stdout: '', memoryIds: [] };
  const additionalContext = `${header}\n${lines.join('\n')}`;
  return { stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext } }), memoryIds: ids };
}

// ---------------------------------------------------------------- Stop

async function stop(
  options: RunClaudeCodeHookOptions,
  env: Environment,
  log: (message: string) => void,
  signal: AbortSignal,
): Promise<ClaudeCodeHookResult> {
  const input = parseInput(options.input);
  if (typeof input.transcript_path !== 'string' || !input.transcript_path) {
    log('no transcript_path in the hook input: nothing to record');
    return { stdout: '', memoryIds: [] };
  }
  const cwd = cwdOf(input, options, env);
  const messages = await readTranscript(input.transcript_path);
  // Without a model, a session that decided and learned nothing (by the keyword rules) opens no store.
  const hasModel = options.memory ? options.memory.model !== undefined : resolveConfig(options, env, cwd).model !== undefined;
  if (!hasModel) {
    const notes = extractSessionNotes(messages);
    if (notes.decisions.length === 0 && notes.learnings.length === 0) return { stdout: '', memoryIds: [] };
  }
  const project = projectOf(cwd);
  const sessionId = typeof input.session_id === 'string' && input.session_id ? input.session_id : undefined;
  const scope = scopeOf(options, env);
  const result = await withMemory(
    options,
    env,
    cwd,
    log,
    (memory) =>
      harvestTranscript(memory, messages, {
        project: project.name,
        scope,
        ...(sessionId ? { sessionId } : {}),
        // Stop fires after every reply: the model reads the latest exchange only.
        latestExchange: true,
        source: 'claude-code-stop-hook',
        signal,
      }),
    false,
  );
  for (const warning of result?.warnings ?? []) log(warning);
  const ids = (result?.items ?? []).flatMap((item) => (item.id && item.action !== 'unchanged' ? [item.id] : []));
  return { stdout: '', memoryIds: [...new Set(ids)] };
}
