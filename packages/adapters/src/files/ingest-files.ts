import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  formatOf,
  type IngestedDocument,
  type IngestOptions,
  type IngestReport,
  type IngestSource,
  type Memory,
  type PdfReader,
} from '@engram/core';

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', '.hg', '.svn', '.engram', 'dist', '.next', '.cache']);
const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

export interface IngestFilesOptions extends IngestOptions {
  /** Also forget (soft-delete) the chunks of documents ingested from under these paths whose file is gone. */
  prune?: boolean;
}

export interface IngestFilesReport extends IngestReport {
  /** Sources pruned (their file no longer exists) and how many chunks went with them. */
  pruned: { sources: string[]; chunks: number };
}

/** PDF pages and title with unpdf (loaded on first use). An encrypted or broken PDF rejects with a clear message. */
export const unpdfReader: PdfReader = async (bytes) => {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let document: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    document = await getDocumentProxy(new Uint8Array(bytes));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'PasswordException') throw new Error('encrypted PDF: it needs a password');
    throw new Error(`broken PDF (${(error as Error).message})`);
  }
  const { text } = await extractText(document, { mergePages: false });
  const info = (await document.getMetadata().catch(() => undefined))?.info as { Title?: unknown } | undefined;
  const title = typeof info?.Title === 'string' && info.Title.trim().length > 0 ? info.Title.trim() : undefined;
  return { pages: text, ...(title ? { title } : {}) };
};

/**
 * Ingests files: each argument is a file, a directory (every readable file under it, skipping
 * node_modules, .git, dist and dot-folders' caches) or a glob (`docs/**\/*.md`, `*.pdf`). A
 * file that cannot be read, is too large or has an unknown extension is a failed document in the
 * report; the rest is ingested. Sources are paths relative to the working directory.
 */
export async function ingestFiles(memory: Memory, patterns: string[], options: IngestFilesOptions = {}): Promise<IngestFilesReport> {
  const started = performance.now();
  const { prune, ...ingestOptions } = options;
  const maxBytes = ingestOptions.maxBytes ?? DEFAULT_MAX_BYTES;
  const files = new Set<string>();
  const failures: IngestedDocument[] = [];
  for (const pattern of patterns) {
    const found = await expand(pattern);
    if (found.length === 0) failures.push(failure(pattern, 'no such file, or nothing matches'));
    for (const file of found) files.add(file);
  }
  const sources: IngestSource[] = [];
  for (const file of [...files].sort()) {
    const name = displayPath(file);
    if (!formatOf(file)) {
      if (isExplicit(file, patterns)) failures.push(failure(name, 'unsupported file type'));
      continue;
    }
    try {
      const size = (await stat(file)).size;
      if (size > maxBytes) {
        failures.push(failure(name, `too large: ${size} bytes (the limit is ${maxBytes}; raise maxBytes or split the file)`, size));
        continue;
      }
      sources.push({ buffer: await readFile(file), filename: file, source: name });
    } catch (error) {
      failures.push(failure(name, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
    }
  }
  const report: IngestReport =
    sources.length > 0
      ? await memory.ingest(sources, ingestOptions)
      : { documents: [], chunks: { created: 0, updated: 0, unchanged: 0, deleted: 0 }, bytes: 0, failed: 0, durationMs: 0 };
  const pruned = prune ? await pruneMissing(memory, patterns, ingestOptions.scope) : { sources: [], chunks: 0 };
  return {
    ...report,
    documents: [...report.documents, ...failures],
    failed: report.failed + failures.length,
    chunks: { ...report.chunks, deleted: report.chunks.deleted + pruned.chunks },
    pruned,
    durationMs: performance.now() - started,
  };
}

function failure(source: string, error: string, bytes = 0): IngestedDocument {
  return { source, title: source, status: 'failed', chunks: 0, bytes, error };
}

function displayPath(file: string): string {
  const path = relative(process.cwd(), file);
  return (path.startsWith('..') || isAbsolute(path) ? file : path).split(sep).join('/');
}

function isExplicit(file: string, patterns: string[]): boolean {
  return patterns.some((pattern) => resolve(pattern) === file);
}

/** Files a pattern names: the file, every file under a directory, or the glob's matches. */
async function expand(pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) {
    const path = resolve(pattern);
    const info = await stat(path).catch(() => undefined);
    if (!info) return [];
    return info.isDirectory() ? walk(path) : [path];
  }
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((part) => /[*?[]/.test(part));
  const base = resolve(parts.slice(0, firstGlob).join('/') || '.');
  const matcher = globRegExp(parts.slice(firstGlob).join('/'));
  return (await walk(base)).filter((file) => matcher.test(relative(base, file).split(sep).join('/')));
}

async function walk(directory: string): Promise<string[]> {
  const files: string[] = [];
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) files.push(...(await walk(path)));
    } else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** `**` any folders, `*` any characters but `/`, `?` one character. */
export function globRegExp(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const character = glob[index] as string;
    if (character === '*' && glob[index + 1] === '*') {
      source += glob[index + 2] === '/' ? '(?:.*/)?' : '.*';
      index += glob[index + 2] === '/' ? 2 : 1;
    } else if (character === '*') source += '[^/]*';
    else if (character === '?') source += '[^/]';
    else source += character.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Soft-deletes the chunks of ingested documents under these patterns' folders whose file is gone. */
async function pruneMissing(
  memory: Memory,
  patterns: string[],
  scope: IngestOptions['scope'],
): Promise<{ sources: string[]; chunks: number }> {
  const roots = patterns.map((pattern) => {
    const parts = pattern.split(/[\\/]/);
    const firstGlob = parts.findIndex((part) => /[*?[]/.test(part));
    return resolve(firstGlob === -1 ? pattern : parts.slice(0, firstGlob).join('/') || '.');
  });
  const gone = new Map<string, string[]>();
  let cursor: string | null = null;
  do {
    const page = await memory.list({
      ...(scope ? { scope } : {}),
      where: { documentHash: { exists: true } },
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    for (const record of page.items) {
      const source = typeof record.metadata.source === 'string' ? record.metadata.source : undefined;
      if (!source) continue;
      const path = resolve(source);
      const under = roots.some((root) => path === root || path.startsWith(`${root}${sep}`));
      if (!under || existsSync(path)) continue;
      const ids = gone.get(source) ?? [];
      ids.push(record.id);
      gone.set(source, ids);
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
  let chunks = 0;
  for (const ids of gone.values()) for (const id of ids) if (await memory.delete(id)) chunks++;
  return { sources: [...gone.keys()].sort(), chunks };
}
