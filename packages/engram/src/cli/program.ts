import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAdd } from './commands/add.js';
import { registerBackup } from './commands/backup.js';
import { registerConsolidate } from './commands/consolidate.js';
import { registerContext } from './commands/context.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDelete } from './commands/delete.js';
import { registerExport } from './commands/export.js';
import { registerForget } from './commands/forget.js';
import { registerGet } from './commands/get.js';
import { registerGraph } from './commands/graph.js';
import { registerHarvest } from './commands/harvest.js';
import { registerImport } from './commands/import.js';
import { registerIngest } from './commands/ingest.js';
import { registerKeysEncryption } from './commands/keys-encryption.js';
import { registerList } from './commands/list.js';
import { registerMcp } from './commands/mcp.js';
import { registerReembed } from './commands/reembed.js';
import { registerReindex } from './commands/reindex.js';
import { registerRemember } from './commands/remember.js';
import { registerSearch } from './commands/search.js';
import { registerServe } from './commands/serve.js';
import { registerStats } from './commands/stats.js';
import { registerSync } from './commands/sync.js';
import { describeError } from './errors.js';
import { CliState, DEFAULT_STORE_PATH, stringifyJson } from './invocation.js';
import type { CliIo } from './io.js';

export type { CliIo, CreateMemoryContext, OutputStream } from './io.js';

/** The `engram` command tree for one run (commander keeps state, so build one per run). */
export function createProgram(state: CliState): Command {
  const program = new Command('engram')
    .description('Engram: memory for AI agents. Store, search and move typed memories kept in a local SQLite file.')
    .version(packageVersion(), '-V, --version', 'Print the version')
    .option('--path <file>', `The store's SQLite file (default: $ENGRAM_PATH, else ${DEFAULT_STORE_PATH})`)
    .option('--json', 'Machine-readable output: one JSON document on stdout per command')
    .option('-q, --quiet', 'Only results and errors: no progress, notes or confirmations')
    .helpOption('-h, --help', 'Show help (also: engram <command> --help)')
    .helpCommand('help [command]', 'Show help for a command')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void state.io.stdout.write(text),
      writeErr: (text) => void state.io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');

  registerAdd(program, state);
  registerRemember(program, state);
  registerSearch(program, state);
  registerGet(program, state);
  registerList(program, state);
  registerDelete(program, state);
  registerForget(program, state);
  registerContext(program, state);
  registerStats(program, state);
  registerExport(program, state);
  registerImport(program, state);
  registerBackup(program, state);
  registerReembed(program, state);
  registerGraph(program, state);
  registerReindex(program, state);
  registerConsolidate(program, state);
  registerIngest(program, state);
  registerMcp(program, state);
  registerServe(program, state);
  registerSync(program, state);
  registerDashboard(program, state);
  registerHarvest(program, state);
  // After serve: `keys` is the REST server's command; rotate-encryption joins it as a subcommand.
  registerKeysEncryption(program, state);

  program.addHelpText(
    'after',
    `
Global options work before or after the command (engram --json search x, engram search x --json).

Environment:
  ENGRAM_PATH      the store's SQLite file when --path is not given
  ENGRAM_EMBEDDER  embedder for a new store: auto (default), hash, transformers, transformers:<model id>.
                   An existing store always reopens with the embedder it was built with.
  ENGRAM_MODEL     language model for remember --infer and harvest: openai:gpt-4o-mini, ollama:qwen2.5:7b, …
                   (with ENGRAM_MODEL_URL and ENGRAM_MODEL_KEY; see docs/intelligence.md)
  ENGRAM_SYNC_URL  an Engram server this store syncs with (with ENGRAM_SYNC_KEY; see engram sync, docs/sync.md)

Exit codes: 0 success, 1 an error (bad value, unknown id, failed import lines), 2 a usage error.

Examples:
  $ engram add "Retries on the billing API must be idempotent" --type learning --tags billing
  $ engram search "billing retries" --limit 5
  $ engram context "working on billing" --budget 400
  $ engram list --types decision
  $ engram export backup.jsonl && engram import backup.jsonl --path other.db
  $ engram link <fix-id> fixes <bug-id> && engram neighbors <bug-id> --depth 2
  $ engram mcp                      # serve this memory to Claude Code, Cursor… over MCP (stdio)
  $ engram hooks install            # Claude Code: recall at session start, remember at stop
  $ engram serve --port 8000        # REST + SSE for any HTTP client; engram keys create --tenant me for keys
  $ engram stats --json`,
  );
  return program;
}

/**
 * Runs the CLI in-process. `args` are the arguments after the program name
 * (`['search', 'flaky tests', '--json']`). Resolves to the exit code; never throws for
 * expected errors and never calls process.exit.
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const state = new CliState(io);
  const separator = args.indexOf('--');
  const json = (separator === -1 ? args : args.slice(0, separator)).includes('--json');
  try {
    await createProgram(state).parseAsync(args, { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or the help / version).
      if (error.exitCode === 0) return 0;
      if (json) writeJsonError(io, { code: 'USAGE_ERROR', message: error.message.replace(/^error: /, '') });
      return 2;
    }
    const described = describeError(error);
    for (const message of described.messages) io.stderr.write(`error: ${message}\n`);
    if (described.stack && (io.env ?? process.env).ENGRAM_DEBUG !== undefined) io.stderr.write(`${described.stack}\n`);
    else if (described.stack) io.stderr.write('(set ENGRAM_DEBUG=1 for the stack trace, and please report this)\n');
    if (json) {
      writeJsonError(io, {
        code: described.code,
        message: described.messages.join('; '),
        ...(described.field !== undefined ? { field: described.field } : {}),
        ...(described.flag !== undefined ? { flag: described.flag } : {}),
      });
    }
    return Math.max(described.exitCode, state.exitCode);
  }
}

function writeJsonError(io: CliIo, error: { code: string; message: string; field?: string; flag?: string }): void {
  io.stdout.write(`${stringifyJson({ error }, io.stdout)}\n`);
}

/** The bin: runs with the process's streams and exits with the CLI's code. */
export async function main(argv: string[] = process.argv): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    // `engram export | head` closes the pipe early: stop quietly instead of crashing.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const code = await runCli(argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: touching process.stdin creates a handle; only `add -` and `import -` need it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    ...(argv[1] !== undefined ? { relaunch: { script: argv[1], argv: argv.slice(2) } } : {}),
  });
  process.exitCode = code;
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  // An embedding runtime may keep worker threads alive after close(); the work is done.
  process.exit(code);
}

/** The version of the `engram` package this file belongs to (found by walking up to its package.json). */
function packageVersion(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'engram' && manifest.version) return manifest.version;
    } catch {
      // Not here: keep walking up.
    }
    directory = dirname(directory);
  }
  return '0.0.0';
}
