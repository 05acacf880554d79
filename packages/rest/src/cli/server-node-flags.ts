import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { constants } from 'node:os';

/**
 * V8 flags every server process runs with, unless the user set the same flag (any value) on the
 * command line or in NODE_OPTIONS.
 *
 * `--max-semi-space-size=32`: a young generation twice Node 20's default (16 MB a semi-space).
 * A search allocates ~350 KB of short-lived objects, so with 16 connections the server scavenged
 * every ~45 searches; each scavenge copies what is alive at that moment (~1 MB of requests in
 * flight), a pause every request in the queue waits out. With 32 MB the server scavenges half
 * as often and promotes less: at 10k memories, 16 connections, one worker, 4 alternating runs,
 * scavenge time 0.09–0.18 → 0.035–0.085 ms a request and server CPU 1.86–2.13 → 1.76–1.91 ms
 * a search, lower in each pair (bench/README.md, REST). The cost: up to 3 × 16 MB more memory
 * a process when busy.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** The flag's name, spelled with hyphens (V8 takes `--max_semi_space_size` too). */
function flagName(argument: string): string {
  return (argument.split('=')[0] ?? '').replace(/_/g, '-');
}

/** Those of `SERVER_NODE_FLAGS` this process does not run with and the user did not set either. */
export function missingServerNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((argument) => argument.startsWith('--')).map(flagName));
  return SERVER_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** Set in a server process `relaunchWithServerFlags` started: it never starts another. */
export const RELAUNCHED_VARIABLE = 'ENGRAM_SERVER_RELAUNCHED';

/**
 * Runs this same command line again in a child process with `flags` (V8 reads them only at
 * start-up) and resolves with its exit code. The child shares stdin/stdout/stderr; SIGTERM,
 * SIGINT and SIGHUP sent to this process are passed on once (the child has its own process
 * group, so a terminal's Ctrl-C reaches it once, through here); if this process dies without
 * passing anything on, the child sees its IPC channel close and stops gracefully.
 */
export function relaunchWithServerFlags(
  flags: readonly string[],
  command: { script: string; argv: readonly string[] },
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const child = spawn(process.execPath, [...flags, ...process.execArgv, command.script, ...command.argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...env, [RELAUNCHED_VARIABLE]: '1' },
    detached: true,
  });
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of signals) process.on(signal, forward);
  return new Promise((resolve) => {
    const done = (code: number) => {
      for (const signal of signals) process.off(signal, forward);
      resolve(code);
    };
    child.on('error', (error) => {
      process.stderr.write(`engram-server: could not start the server process: ${error.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
  });
}

/**
 * In a relaunched server process: stop gracefully (as on SIGTERM) when the process that started
 * it is gone, and never let the IPC channel alone keep this process running.
 */
export function followLauncher(env: Record<string, string | undefined> = process.env): void {
  // A cluster worker's channel is to its primary, not to a launcher (it inherits the variable
  // when the environment has it): unref'd, the worker ended before it listened (exit 13).
  if (env[RELAUNCHED_VARIABLE] !== '1' || !process.connected || cluster.isWorker) return;
  // Emitted, not sent: a server already stopping has no listener left, and nothing happens.
  process.once('disconnect', () => process.emit('SIGTERM', 'SIGTERM'));
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
