import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ValidationError } from '@engram/core';
import { findGitRoot } from './project.js';

export type ClaudeCodeHookEventName = 'SessionStart' | 'Stop';

/** Seconds Claude Code waits for each hook before killing it (the hooks stop earlier on their own). */
export const HOOK_TIMEOUT_SECONDS: Record<ClaudeCodeHookEventName, number> = { SessionStart: 15, Stop: 30 };

const SUBCOMMAND: Record<ClaudeCodeHookEventName, string> = { SessionStart: 'session-start', Stop: 'stop' };

export interface InstallClaudeCodeHooksOptions {
  /** Write ~/.claude/settings.json (every project) instead of <project>/.claude/settings.json. */
  global?: boolean;
  /** The project folder. Default: the git root above `cwd`, else `cwd`. */
  projectDir?: string;
  /** Default: process.cwd(). */
  cwd?: string;
  /** Default: os.homedir(). */
  homeDir?: string;
  /**
   * The command that runs Engram's hooks, followed by `hook session-start` / `hook stop`.
   * Default 'engram-mcp' (the @engram/mcp bin). The bins pass what `resolveHookRunner` finds:
   * their bare name when it is on the PATH, else `<node> <absolute script path>`.
   */
  command?: string;
  /** Extra arguments for both hooks, e.g. ['--path', '/home/me/.engram/memory.db']. Shell-quoted as needed. */
  arguments?: string[];
}

export type HookChange = 'added' | 'updated' | 'unchanged' | 'removed' | 'absent';

export interface ClaudeCodeHooksResult {
  settingsPath: string;
  /** True when the file was written. */
  changed: boolean;
  hooks: Record<ClaudeCodeHookEventName, HookChange>;
  /** install: the command each hook runs, as written to the settings file. */
  commands?: Record<ClaudeCodeHookEventName, string>;
}

interface HookCommand {
  type?: unknown;
  command?: unknown;
  timeout?: unknown;
  [key: string]: unknown;
}

interface HookGroup {
  matcher?: unknown;
  hooks?: HookCommand[];
  [key: string]: unknown;
}

type Settings = Record<string, unknown> & { hooks?: Record<string, unknown> };

/** A command this package wrote (any runner: engram-mcp, engram, node …/bin.js) for one event. */
function isEngramHook(command: unknown, event: ClaudeCodeHookEventName): boolean {
  if (typeof command !== 'string' || !/engram/i.test(command)) return false;
  return new RegExp(`\\bhook\\s+${SUBCOMMAND[event]}(\\s|$)`).test(command);
}

function shellQuote(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}

export function settingsPathFor(options: Pick<InstallClaudeCodeHooksOptions, 'global' | 'projectDir' | 'cwd' | 'homeDir'>): string {
  if (options.global) return join(options.homeDir ?? homedir(), '.claude', 'settings.json');
  const cwd = options.cwd ?? process.cwd();
  return join(options.projectDir ?? findGitRoot(cwd) ?? cwd, '.claude', 'settings.json');
}

async function readSettings(path: string): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError([
      { field: path, message: `is not valid JSON (${(error as Error).message}): fix or move it, then run again. Nothing was changed.` },
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError([{ field: path, message: 'is not a JSON object: fix or move it, then run again. Nothing was changed.' }]);
  }
  const settings = parsed as Settings;
  if (settings.hooks !== undefined && (typeof settings.hooks !== 'object' || settings.hooks === null || Array.isArray(settings.hooks))) {
    throw new ValidationError([{ field: `${path}: hooks`, message: 'is not an object: fix it, then run again. Nothing was changed.' }]);
  }
  return settings;
}

async function writeSettings(path: string, settings: Settings): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, 'utf8');
  await rename(temporary, path);
}

function groupsOf(settings: Settings, event: ClaudeCodeHookEventName): HookGroup[] {
  const value = settings.hooks?.[event];
  return Array.isArray(value) ? (value as HookGroup[]) : [];
}

/**
 * Removes this package's hook commands for an event (and groups they leave empty). Returns the
 * first one found with its group's other fields (a matcher the user set), so it can be put back
 * in place.
 */
function takeEngramHooks(
  groups: HookGroup[],
  event: ClaudeCodeHookEventName,
): { remaining: HookGroup[]; found: HookCommand | undefined; groupFields: Omit<HookGroup, 'hooks'>; position: number } {
  let found: HookCommand | undefined;
  let groupFields: Omit<HookGroup, 'hooks'> = {};
  let position = -1;
  const remaining: HookGroup[] = [];
  for (const group of groups) {
    if (!Array.isArray(group?.hooks)) {
      remaining.push(group);
      continue;
    }
    const kept = group.hooks.filter((hook) => {
      if (!isEngramHook(hook?.command, event)) return true;
      if (!found) {
        found = hook;
        position = remaining.length;
        const { hooks: _hooks, ...fields } = group;
        groupFields = fields;
      }
      return false;
    });
    if (kept.length > 0 || group.hooks.length === 0) remaining.push({ ...group, hooks: kept });
  }
  return { remaining, found, groupFields, position };
}

/**
 * Adds Engram's Claude Code hooks to a settings file, idempotently: a SessionStart hook that
 * injects the project's most relevant memories, and a Stop hook that records the session's
 * decisions and learnings. Existing Engram hooks are updated in place (never duplicated) and
 * every other setting and hook is kept as it was.
 */
export async function installClaudeCodeHooks(options: InstallClaudeCodeHooksOptions = {}): Promise<ClaudeCodeHooksResult> {
  const settingsPath = settingsPathFor(options);
  const settings = await readSettings(settingsPath);
  const base = [options.command ?? 'engram-mcp', ...(options.arguments ?? []).map(shellQuote)];
  const hooks: Record<ClaudeCodeHookEventName, HookChange> = { SessionStart: 'unchanged', Stop: 'unchanged' };
  const events: ClaudeCodeHookEventName[] = ['SessionStart', 'Stop'];
  const commands = {} as Record<ClaudeCodeHookEventName, string>;
  const before = JSON.stringify(settings);
  for (const event of events) {
    const command = [base[0], 'hook', SUBCOMMAND[event], ...base.slice(1)].join(' ');
    commands[event] = command;
    const desired: HookCommand = { type: 'command', command, timeout: HOOK_TIMEOUT_SECONDS[event] };
    const groups = groupsOf(settings, event);
    const { remaining, found, groupFields, position } = takeEngramHooks(groups, event);
    if (found) {
      // Back where it was, keeping fields the user added (e.g. a matcher).
      remaining.splice(position, 0, { ...groupFields, hooks: [{ ...found, ...desired }] });
      hooks[event] = JSON.stringify(remaining) === JSON.stringify(groups) ? 'unchanged' : 'updated';
    } else {
      remaining.push({ hooks: [desired] });
      hooks[event] = 'added';
    }
    settings.hooks = { ...(settings.hooks ?? {}), [event]: remaining };
  }
  const changed = JSON.stringify(settings) !== before;
  if (changed) await writeSettings(settingsPath, settings);
  return { settingsPath, changed, hooks, commands };
}

/** Removes Engram's hooks from a settings file, keeping everything else. */
export async function uninstallClaudeCodeHooks(
  options: Omit<InstallClaudeCodeHooksOptions, 'command' | 'arguments'> = {},
): Promise<ClaudeCodeHooksResult> {
  const settingsPath = settingsPathFor(options);
  const settings = await readSettings(settingsPath);
  const hooks: Record<ClaudeCodeHookEventName, HookChange> = { SessionStart: 'absent', Stop: 'absent' };
  let changed = false;
  for (const event of ['SessionStart', 'Stop'] as const) {
    const groups = groupsOf(settings, event);
    const { remaining, found } = takeEngramHooks(groups, event);
    if (!found || !settings.hooks) continue;
    hooks[event] = 'removed';
    changed = true;
    if (remaining.length > 0) settings.hooks[event] = remaining;
    else delete settings.hooks[event];
  }
  if (settings.hooks && Object.keys(settings.hooks).length === 0) delete settings.hooks;
  if (changed) await writeSettings(settingsPath, settings);
  return { settingsPath, changed, hooks };
}
