import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import type { CliState } from '../invocation.js';
import { globalArguments } from './serve.js';

type Environment = Record<string, string | undefined>;

function onPath(command: string, env: Environment): boolean {
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    try {
      accessSync(join(directory, command), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/**
 * The command that opens a URL in a browser here, or null when there is none to open: $BROWSER
 * when set; `open` on macOS; `start` on Windows; on Linux, xdg-open with a display to show it on
 * (a server, a container or an SSH session has none, and the URL is all the user needs).
 */
export function browserCommand(env: Environment, platform: NodeJS.Platform = process.platform): [string, string[]] | null {
  const browser = env.BROWSER?.trim();
  if (browser) return [browser, []];
  if (platform === 'darwin') return ['open', []];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""']];
  if ((env.DISPLAY || env.WAYLAND_DISPLAY) && onPath('xdg-open', env)) return ['xdg-open', []];
  return null;
}

/** `engram dashboard`: serves this memory (as `engram serve`) and opens the web dashboard. */
export function registerDashboard(program: Command, state: CliState): void {
  program
    .command('dashboard')
    .description(
      'Serve this memory (as engram serve) and open the web dashboard in a browser. Prints the URL; opens a browser only when there is one (--no-open: never).',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'engram serve options (--port 8000, --keys-file…) and --no-open')
    .action(async (options: string[], _flags: unknown, self: Command) => {
      const { runServerCommandLine } = await import('@engram/rest');
      const open = !options.includes('--no-open');
      const serverArguments = options.filter((option) => option !== '--no-open');
      const code = await runServerCommandLine(
        [...serverArguments, ...globalArguments(self)],
        {
          stdout: state.io.stdout,
          stderr: state.io.stderr,
          listening: (url) => {
            const page = `${url}/`;
            state.io.stdout.write(`dashboard: ${page}\n`);
            const browser = open ? browserCommand(state.env) : null;
            if (!browser) return;
            const [command, prefix] = browser;
            try {
              const child = spawn(command, [...prefix, page], { detached: true, stdio: 'ignore' });
              child.on('error', () => state.io.stderr.write(`could not start ${command}: open ${page} yourself\n`));
              child.unref();
            } catch {
              state.io.stderr.write(`could not start ${command}: open ${page} yourself\n`);
            }
          },
        },
        state.env,
      );
      state.fail(code);
    });
}
