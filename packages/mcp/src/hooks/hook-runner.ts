import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, join, sep } from 'node:path';

export interface HookRunnerOptions {
  /** The bin's name: 'engram-mcp' or 'engram'. */
  bin: string;
  /** The file that bin runs (its script in this install), e.g. …/@engram/mcp/bin/engram-mcp.js. */
  script: string;
  /** Default: process.env.PATH. */
  searchPath?: string;
  /** Default: process.execPath (the node running now). */
  nodePath?: string;
}

export interface HookRunner {
  /** The command to write in front of `hook session-start` / `hook stop`. */
  command: string;
  /**
   * True when `bin` on the PATH is this very install, so the bare name resolves wherever
   * Claude Code runs it; false when the command names node and the script by absolute path.
   */
  onPath: boolean;
}

function shellQuote(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The first executable `name` on a PATH, ignoring node_modules/.bin folders (npx and npm run add those; Claude Code does not). */
function findOnPath(name: string, searchPath: string): string | undefined {
  for (const directory of searchPath.split(delimiter)) {
    if (!directory || directory.endsWith(`${sep}node_modules${sep}.bin`) || directory.endsWith(`node_modules${sep}.bin${sep}`)) continue;
    const candidate = join(directory, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there: next folder.
    }
  }
  return undefined;
}

/**
 * The command Claude Code should run for Engram's hooks on this machine. Hooks run in Claude
 * Code's own environment, where a bin reached through `npx` or a clone's node_modules/.bin is not
 * on the PATH; so the bare bin name is used only when the PATH (node_modules/.bin folders aside)
 * leads to this same install, and otherwise the absolute node and script paths are written.
 */
export function resolveHookRunner(options: HookRunnerOptions): HookRunner {
  const found = findOnPath(options.bin, options.searchPath ?? process.env.PATH ?? '');
  if (found && realpathOrSelf(found) === realpathOrSelf(options.script)) return { command: options.bin, onPath: true };
  return {
    command: `${shellQuote(options.nodePath ?? process.execPath)} ${shellQuote(realpathOrSelf(options.script))}`,
    onPath: false,
  };
}
