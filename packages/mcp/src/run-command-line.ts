import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFatal, parseCommandLine, USAGE, UsageError } from './cli.js';
import type { ClaudeCodeHooksResult } from './hooks/claude-code-settings.js';
import { VERSION } from './version.js';

// Each command imports what it needs when it runs: the server must answer `initialize` fast.

/** The streams a run uses (tests pass their own). */
export interface CommandLineIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** The engram-mcp bin's script in this install (src/ and the bundled dist/ both sit beside bin/). */
export const ENGRAM_MCP_BIN_SCRIPT = fileURLToPath(new URL('../bin/engram-mcp.js', import.meta.url));

/** What `hooks install` prints: where, what each hook runs, and why an absolute path was written. */
export function describeHooksInstall(
  result: ClaudeCodeHooksResult,
  runner: { bin: string; onPath: boolean } | undefined,
  reinstall: string,
): string {
  const lines = [
    result.changed
      ? `Claude Code hooks in ${result.settingsPath}: SessionStart ${result.hooks.SessionStart}, Stop ${result.hooks.Stop}.`
      : `Claude Code hooks already installed in ${result.settingsPath}: nothing changed.`,
  ];
  if (result.commands) {
    lines.push(`  SessionStart runs: ${result.commands.SessionStart}`, `  Stop runs:         ${result.commands.Stop}`);
  }
  if (runner && !runner.onPath) {
    lines.push(
      `${runner.bin} is not on your PATH, so the hooks run this install by absolute path. If you move or delete it, ` +
        `run \`${reinstall}\` again (or install the bin globally, then reinstall the hooks to use its bare name).`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const MAX_HOOK_INPUT_BYTES = 1024 * 1024;

/** Reads what Claude Code pipes to a hook: everything until EOF, at most 1 MB, giving up after `waitMs`. */
function readHookInput(stdin: CommandLineIo['stdin'], waitMs = 3000): Promise<string> {
  if (stdin.isTTY) return Promise.resolve('');
  return new Promise((resolveInput) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      stdin.removeListener('data', onData);
      stdin.removeListener('end', finish);
      stdin.removeListener('error', finish);
      resolveInput(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size <= MAX_HOOK_INPUT_BYTES) chunks.push(buffer);
    };
    const timer = setTimeout(finish, waitMs);
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.once('error', finish);
  });
}

/**
 * Runs `engram-mcp <args>` and resolves to the exit code: when the server stops (stdio: the
 * client closed stdin; HTTP: SIGINT/SIGTERM), or when a hook or hooks command is done.
 * `engram mcp <args>` in the engram CLI is this same call.
 */
export async function runMcpCommandLine(args: readonly string[], io: CommandLineIo = process): Promise<number> {
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(args);
  } catch (error) {
    io.stderr.write(`engram-mcp: ${describeFatal(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  try {
    switch (command.command) {
      case 'help':
        io.stdout.write(USAGE);
        return 0;
      case 'version':
        io.stdout.write(`${VERSION}\n`);
        return 0;
      case 'hook': {
        const { runClaudeCodeHook } = await import('./hooks/run-claude-code-hook.js');
        const input = await readHookInput(io.stdin);
        const result = await runClaudeCodeHook(command.event, { ...command.options, input });
        if (result.stdout) io.stdout.write(`${result.stdout}\n`);
        // A hook never fails the session.
        return 0;
      }
      case 'hooks-install': {
        const { installClaudeCodeHooks } = await import('./hooks/claude-code-settings.js');
        const { resolveHookRunner } = await import('./hooks/hook-runner.js');
        const runner = command.hookCommand ? undefined : resolveHookRunner({ bin: 'engram-mcp', script: ENGRAM_MCP_BIN_SCRIPT });
        const result = await installClaudeCodeHooks({
          global: command.global,
          command: command.hookCommand ?? runner?.command ?? 'engram-mcp',
          ...(command.options.path ? { arguments: ['--path', resolve(command.options.path)] } : {}),
        });
        io.stdout.write(
          describeHooksInstall(
            result,
            runner && { bin: 'engram-mcp', onPath: runner.onPath },
            `engram-mcp hooks install${command.global ? ' --global' : ''}`,
          ),
        );
        return 0;
      }
      case 'hooks-uninstall': {
        const { uninstallClaudeCodeHooks } = await import('./hooks/claude-code-settings.js');
        const result = await uninstallClaudeCodeHooks({ global: command.global });
        io.stdout.write(
          result.changed
            ? `Removed Engram's hooks from ${result.settingsPath}.\n`
            : `No Engram hooks in ${result.settingsPath}: nothing changed.\n`,
        );
        return 0;
      }
      case 'serve': {
        const { startMcpServer } = await import('./start-mcp-server.js');
        // One failed promise somewhere must not take down a server other clients rely on.
        process.on('unhandledRejection', (reason) => {
          io.stderr.write(
            `engram-mcp: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
          );
        });
        const handle = await startMcpServer(command.options);
        const stop = () => void handle.close();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await handle.closed;
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        return 0;
      }
    }
  } catch (error) {
    io.stderr.write(`engram-mcp: ${describeFatal(error)}\n`);
    return 1;
  }
}
