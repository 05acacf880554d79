import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { LanguageModel, Memory } from '@engram/core';

/** The part of a writable stream the CLI uses; `process.stdout` and simple test doubles both fit. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  once?(event: 'drain', listener: () => void): unknown;
}

export interface CreateMemoryContext {
  /** Where the memory's warnings and notices should go (already silenced under --quiet). */
  logger: ((message: string) => void) | false;
  /** The language model (ENGRAM_MODEL) for commands that infer: remember --infer, harvest. */
  model?: LanguageModel;
}

/** Everything `runCli` touches outside itself, so tests can run it in-process. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Read by `engram add -` and `engram import -`. */
  stdin?: Readable;
  /** Default: process.env (ENGRAM_PATH). */
  env?: Record<string, string | undefined>;
  /**
   * Builds the Memory for a command. Default: the `engram` package's `Memory` on the SQLite file
   * at `path`. When given, the CLI does not check that `path` exists.
   */
  createMemory?: (path: string, context: CreateMemoryContext) => Memory | Promise<Memory>;
  /**
   * This command line (script and arguments), which `engram serve` runs again in a child process
   * with the server's V8 flags when this process lacks them (the bin passes its own). Without it
   * the server runs in this process as is.
   */
  relaunch?: { script: string; argv: string[] };
}

/** Writes and, when the stream asks for it, waits for it to drain (large exports). */
export async function writeChunk(stream: OutputStream, chunk: string): Promise<void> {
  const flushed = stream.write(chunk);
  if (flushed === false && typeof stream.once === 'function') {
    await new Promise<void>((resolve) => stream.once?.('drain', resolve));
  }
}

/** Terminal width when `stream` is a TTY, else undefined (no truncation when piped). */
export function terminalWidth(stream: OutputStream): number | undefined {
  return stream.isTTY && typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : undefined;
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Lines of a UTF-8 stream, without their terminators (LF or CRLF) and without a leading BOM. */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let first = true;
  try {
    for await (const line of lines) {
      yield first && line.startsWith('\uFEFF') ? line.slice(1) : line;
      first = false;
    }
  } finally {
    lines.close();
  }
}
