import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ENGRAM_BIN_SCRIPT } from '../../bin-script.js';
import { type CliState, Invocation } from '../invocation.js';

/** The store path the user chose for this run, as arguments for engram-mcp. */
function pathArguments(self: Command): string[] {
  const { path } = self.optsWithGlobals<{ path?: string }>();
  return path ? ['--path', resolve(path)] : [];
}

/** `engram mcp`, `engram hooks install|uninstall`, `engram hook <event>`: the MCP server and Claude Code hooks. */
export function registerMcp(program: Command, state: CliState): void {
  program
    .command('mcp')
    .description('Serve this memory over MCP (stdio by default; --http --port 8765 for Streamable HTTP). Same as engram-mcp.')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'engram-mcp options: --http, --port, --host, --token, --compat, --user, --agent… (engram mcp --help)')
    .action(async (options: string[], _flags: unknown, self: Command) => {
      // Loaded on demand: the MCP SDK is only needed for this command. stdout belongs to the protocol.
      const { runMcpCommandLine } = await import('@engram/mcp');
      const code = await runMcpCommandLine([...options, ...pathArguments(self)], {
        stdin: state.io.stdin ?? process.stdin,
        stdout: state.io.stdout,
        stderr: state.io.stderr,
      });
      state.fail(code);
    });

  const hooks = program
    .command('hooks')
    .description('Install or remove the Claude Code hooks: memories injected at session start, decisions/learnings stored at stop.');
  hooks
    .command('install')
    .description('Add the SessionStart and Stop hooks to .claude/settings.json (idempotent; other settings are kept).')
    .option('--global', 'Write ~/.claude/settings.json (every project) instead of the project one')
    .addHelpText(
      'after',
      `
Examples:
  $ engram hooks install
  $ engram hooks install --global --path ~/.engram/memory.db`,
    )
    .action(async (flags: { global?: boolean }, self: Command) => {
      const invocation = new Invocation(state, self);
      const { describeHooksInstall, installClaudeCodeHooks, resolveHookRunner } = await import('@engram/mcp');
      // Claude Code runs the hooks in its own environment: the bare `engram` only when the PATH
      // leads to this install, else this node and this bin's script by absolute path.
      const runner = resolveHookRunner({ bin: 'engram', script: ENGRAM_BIN_SCRIPT });
      const result = await installClaudeCodeHooks({
        global: flags.global ?? false,
        command: runner.command,
        arguments: pathArguments(self),
      });
      await invocation.result({ ...result, onPath: runner.onPath }, () =>
        describeHooksInstall(
          result,
          { bin: 'engram', onPath: runner.onPath },
          `engram hooks install${flags.global ? ' --global' : ''}`,
        ).trimEnd(),
      );
    });
  hooks
    .command('uninstall')
    .description("Remove Engram's Claude Code hooks (and nothing else) from .claude/settings.json.")
    .option('--global', 'Edit ~/.claude/settings.json instead of the project one')
    .action(async (flags: { global?: boolean }, self: Command) => {
      const invocation = new Invocation(state, self);
      const { uninstallClaudeCodeHooks } = await import('@engram/mcp');
      const result = await uninstallClaudeCodeHooks({ global: flags.global ?? false });
      await invocation.result(result, () =>
        result.changed ? `removed Engram's hooks from ${result.settingsPath}` : `no Engram hooks in ${result.settingsPath}`,
      );
    });

  program
    .command('hook')
    .description('Run a Claude Code hook (what `engram hooks install` registers): session-start or stop. Never fails the session.')
    .argument('<event>', 'session-start or stop')
    .action(async (event: string, _flags: unknown, self: Command) => {
      const { runMcpCommandLine } = await import('@engram/mcp');
      const code = await runMcpCommandLine(['hook', event, ...pathArguments(self)], {
        stdin: state.io.stdin ?? process.stdin,
        stdout: state.io.stdout,
        stderr: state.io.stderr,
      });
      state.fail(code);
    });
}
