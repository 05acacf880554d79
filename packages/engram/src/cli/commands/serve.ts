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
      { stdout: state.io.stdout, stderr: state.io.stderr, ...(state.io.relaunch ? { relaunch: state.io.relaunch } : {}) },
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
  // `keys` is a command of its own with one subcommand per action, so `engram keys --help` lists
  // them all (rotate-encryption joins them from keys-encryption.ts); each API-key action runs in
  // the REST server's command line, which owns the key file.
  const keys = program
    .command('keys')
    .description(
      'Keys: API keys of the REST server (create, list, revoke; only scrypt hashes are stored) and the encryption key of sensitive memories (rotate-encryption).',
    );
  const keyFileOption = [
    '--keys-file <file>',
    'the key file (default: $ENGRAM_KEYS_FILE, else <name>.keys.json beside the SQLite file)',
  ] as const;
  const forward = (action: string) => async (argument: string | undefined, flags: Record<string, string | undefined>, self: Command) => {
    const options = Object.entries(flags).flatMap(([name, value]) =>
      value === undefined ? [] : [`--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`, value],
    );
    await delegate(['keys', action])([...(argument !== undefined ? [argument] : []), ...options], flags, self);
  };
  keys
    .command('create')
    .description('Create an API key for a tenant and print it once (the key file keeps only its scrypt hash).')
    .requiredOption('--tenant <name>', 'the tenant the key opens (a-z, 0-9, _; at most 48 characters)')
    .option('--label <text>', 'a note shown by keys list, e.g. "ci runner"')
    .option(...keyFileOption)
    .action(async (flags: Record<string, string | undefined>, self: Command) => forward('create')(undefined, flags, self));
  keys
    .command('list')
    .description('List the API keys: id, tenant, creation time, label (never the keys themselves).')
    .option(...keyFileOption)
    .action(async (flags: Record<string, string | undefined>, self: Command) => forward('list')(undefined, flags, self));
  keys
    .command('revoke')
    .description('Revoke an API key; running servers refuse it within a second.')
    .argument('<id>', 'the key id (first column of keys list, or the middle part of egk_<id>_<secret>)')
    .option(...keyFileOption)
    .action(forward('revoke'));
}
