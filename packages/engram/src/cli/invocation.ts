import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SqliteCloseStep } from '@engram/adapters/sqlite';
import type { LanguageModel, Memory } from '@engram/core';
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { formatCount } from './format.js';
import { type CliIo, type OutputStream, terminalWidth, writeChunk } from './io.js';

/** Where `new Memory()` keeps its SQLite file; the same default as the package's DEFAULT_PATH. */
export const DEFAULT_STORE_PATH = './.engram/memory.db';

export interface GlobalFlags {
  path?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Commands that only read refuse to create a store that is not there; writers create it. */
export type StoreAccess = 'read' | 'write';

/** Shared state of one `runCli` call. */
export class CliState {
  exitCode = 0;

  constructor(readonly io: CliIo) {}

  get env(): Record<string, string | undefined> {
    return this.io.env ?? process.env;
  }

  fail(code = 1): void {
    this.exitCode = Math.max(this.exitCode, code);
  }
}

/** One command's view of the CLI: its global flags, its output channels, its Memory. */
export class Invocation {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly path: string;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Terminal width for human output; undefined when stdout is not a terminal. */
  readonly width: number | undefined;

  constructor(
    readonly state: CliState,
    command: Command,
  ) {
    const flags = command.optsWithGlobals<GlobalFlags>();
    this.json = flags.json === true;
    this.quiet = flags.quiet === true;
    this.path = flags.path ?? (state.env.ENGRAM_PATH || DEFAULT_STORE_PATH);
    this.stdout = state.io.stdout;
    this.stderr = state.io.stderr;
    this.width = terminalWidth(this.stdout);
  }

  /** Human lines on stdout. */
  async print(lines: string | string[]): Promise<void> {
    const list = Array.isArray(lines) ? lines : [lines];
    if (list.length > 0) await writeChunk(this.stdout, `${list.join('\n')}\n`);
  }

  /** The command's result: one JSON document under --json, else the human lines. */
  async result(document: unknown, human: () => string | string[]): Promise<void> {
    if (this.json) await writeChunk(this.stdout, `${stringifyJson(document, this.stdout)}\n`);
    else await this.print(human());
  }

  /** Progress, hints and confirmations for people: stderr, silenced by --quiet. */
  note(message: string): void {
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  warning(message: string): void {
    if (!this.quiet) this.stderr.write(`warning: ${message}\n`);
  }

  /** A problem that does not stop the command (a bad import line, an unknown id): always shown. */
  problem(message: string): void {
    this.stderr.write(`error: ${message}\n`);
  }

  fail(code = 1): void {
    this.state.fail(code);
  }

  /** Opens the Memory (with `model` for inference), runs `use`, and always closes it. */
  async withMemory<T>(access: StoreAccess, use: (memory: Memory) => Promise<T>, model?: LanguageModel): Promise<T> {
    const memory = await this.openMemory(access, model);
    let result: T;
    try {
      result = await use(memory);
    } catch (error) {
      // The command's own error is the one to report, not a failure to close after it.
      await memory.sync.flush();
      await memory.close().catch(() => {});
      throw error;
    }
    // With ENGRAM_SYNC_URL: push what this command wrote, waiting 2 s at most (the rest stays queued).
    await memory.sync.flush();
    await memory.close();
    return result;
  }

  /**
   * What closing the store does when it takes a while: after a bulk write it indexes what the
   * indexes have not followed yet and writes their snapshots for the next process (seconds at 1M
   * memories). Steps of fewer than 1,000 memories take milliseconds and are not shown.
   */
  private closeProgress(step: SqliteCloseStep): void {
    if (step.memories < 1000) return;
    const what =
      step.step === 'catch-up'
        ? `indexing ${formatCount(step.memories)} memories written since the last catch-up`
        : `writing the ${step.step === 'lexical-snapshot' ? 'lexical' : 'vector'} index snapshot (${formatCount(step.memories)} memories) for the next process`;
    const ms = step.ms ?? 0;
    this.note(step.done ? `closing: ${what}: done in ${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}` : `closing: ${what}…`);
  }

  private async openMemory(access: StoreAccess, model: LanguageModel | undefined): Promise<Memory> {
    const logger = this.quiet ? (false as const) : (message: string) => void this.stderr.write(`[engram] ${message}\n`);
    if (this.state.io.createMemory) return this.state.io.createMemory(this.path, { logger, ...(model ? { model } : {}) });
    if (this.path !== ':memory:') {
      const absolute = resolve(this.path);
      if (access === 'read' && !existsSync(absolute)) {
        throw new CliError(
          `no memory store at ${this.path}. Add a memory first (engram add "..."), or point --path or ENGRAM_PATH at an existing store.`,
          'STORE_NOT_FOUND',
        );
      }
      if (access === 'write') mkdirSync(dirname(absolute), { recursive: true });
    }
    // Loaded on demand: the SQLite adapter and the embedders are only needed when a command runs.
    const { Memory, encryptionFromEnvironment } = await import('../memory.js');
    const { syncFromEnvironment } = await import('@engram/core');
    const encryption = encryptionFromEnvironment(this.state.env);
    const sync = syncFromEnvironment(this.state.env);
    return new Memory({
      path: this.path,
      sqlite: { onClose: (step) => this.closeProgress(step) },
      logger,
      ...(model ? { model } : {}),
      ...(encryption ? { encryption } : {}),
      ...(sync ? { sync: { ...sync, pushDelayMs: false } } : {}),
    });
  }
}

/** Indented for a person at a terminal, compact for programs. */
export function stringifyJson(document: unknown, stream: OutputStream): string {
  return JSON.stringify(document, null, stream.isTTY ? 2 : undefined);
}
