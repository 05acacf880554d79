import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliState } from '../invocation.js';

/** The store path and --json the user chose for this run, as arguments for engram-server. */
export function globalArguments(self: Command): string[] {
  const { path, json } = self.optsWithGlobals<{ path?: string; json?: boolean }>();
  return [...(path ? ['--path', resolve(path)] : []), ...(json ? ['--json'] : [])];
}

/** `engram serve` and `engram keys create|list|revoke`: the REST server and its API keys (same as engram-server). */
export function registerServe(program: Command, state: CliState): void {
  const delegate = (prefix: string[]) => async (options: string[], _flags: unknown, self: Command) => {
    // Loaded on demand: Hono is only needed for these commands.
    const { runServerCommandLine } = await import('@engram/rest');
    // The same environment as every other command (ENGRAM_PATH, ENGRAM_API_KEYS, ENGRAM_MODEL*…).
    const code = await runServerCommandLine(
      [...prefix, ...options, ...globalArguments(self)],
      { stdout: state.io.stdout, stderr: state.io.stderr },
      state.env,
    );
    state.fail(code);
  };
  program
    .command('serve')
    .description('Serve this memory over HTTP: REST + SSE, OpenAPI at /openapi.json, docs at /docs. Same as engram-server.')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'engram-server options: --port 8000, --host, --workers N, --keys-file, --cors-origin… (engram serve --help)')
    .action(delegate([]));
  program
    .command('keys')
    .description('API keys of the REST server: keys create --tenant <name>, keys list, keys revoke <id> (only scrypt hashes are stored).')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[arguments...]', 'create --tenant <name> [--label <text>] | list | revoke <id>')
    .action(delegate(['keys']));
}
