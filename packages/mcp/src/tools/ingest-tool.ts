import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { IngestFilesReport } from '@engram/adapters/files';
import { type IngestReport, ValidationError } from '@engram/core';
import { z } from 'zod';
import { type AnyToolDefinition, defineTool, scopeArguments, scopeOf } from './tool-kit.js';

/** The folder part of a path or glob (everything before the first segment with a wildcard). */
function baseOf(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((part) => /[*?[]/.test(part));
  return firstGlob === -1 ? pattern : parts.slice(0, firstGlob).join('/') || '.';
}

/**
 * Checks that every path lies inside one of the folders the server was started with
 * (`--allow-ingest`), after resolving symbolic links: a tool call never reads anything else.
 */
export async function checkIngestPaths(paths: string[], allowed: readonly string[]): Promise<string[]> {
  if (allowed.length === 0) {
    throw new ValidationError([
      {
        field: 'paths',
        message:
          'this server reads no files: start it with --allow-ingest <folder> to allow ingesting from a folder, or pass text and title',
      },
    ]);
  }
  const roots = await Promise.all(allowed.map((folder) => realpath(resolve(folder)).catch(() => resolve(folder))));
  const checked: string[] = [];
  for (const path of paths) {
    const absolute = isAbsolute(path) ? path : resolve(roots[0] as string, path);
    const base = await realpath(baseOf(absolute)).catch(() => resolve(baseOf(absolute)));
    const inside = roots.some((root) => {
      const from = relative(root, base);
      return from === '' || (!from.startsWith('..') && !isAbsolute(from) && !from.split(sep).includes('..'));
    });
    if (!inside) {
      throw new ValidationError([
        { field: 'paths', message: `${path} is outside the folders this server may read (${allowed.join(', ')})` },
      ]);
    }
    checked.push(absolute);
  }
  return checked;
}

function ingestText(report: IngestReport | IngestFilesReport): string {
  const lines = [
    `${report.documents.length} documents: ${report.chunks.created} chunks created, ${report.chunks.updated} updated, ${report.chunks.unchanged} unchanged, ${report.chunks.deleted} deleted; ${report.failed} failed`,
  ];
  for (const document of report.documents) {
    lines.push(`- ${document.source}: ${document.status}${document.error ? ` (${document.error})` : `, ${document.chunks} chunks`}`);
  }
  return lines.join('\n');
}

const memoryIngest = defineTool({
  name: 'memory_ingest',
  title: 'Ingest documents',
  description:
    'Reads documents into memory, one memory per structural chunk (headings, paragraphs, pages), searchable by their headings. Pass text and title, or paths (files, folders, globs) inside the folders the server allows. Re-ingesting an unchanged document changes nothing.',
  input: z.strictObject({
    ...scopeArguments,
    paths: z.array(z.string().min(1)).min(1).max(100).optional().describe('Files, folders or globs inside the allowed folders.'),
    text: z.string().min(1).optional().describe('A document to ingest directly (with title).'),
    title: z.string().min(1).max(500).optional().describe('Title of the text document (its source name too).'),
    format: z.enum(['markdown', 'text', 'html', 'json', 'jsonl', 'csv', 'code']).optional().describe('Format of the text (default text).'),
    tags: z.array(z.string()).max(100).optional(),
  }),
  output: z.object({
    documents: z.array(z.record(z.string(), z.unknown())),
    chunks: z.object({ created: z.number(), updated: z.number(), unchanged: z.number(), deleted: z.number() }),
    bytes: z.number(),
    failed: z.number(),
    duration_ms: z.number(),
  }),
  kind: 'write',
  idempotent: true,
  async run(args, context) {
    if ((args.paths === undefined) === (args.text === undefined)) {
      throw new ValidationError([{ field: 'paths', message: 'pass either paths, or text with a title' }]);
    }
    if (args.text !== undefined && args.title === undefined)
      throw new ValidationError([{ field: 'title', message: 'is required with text' }]);
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    const options = { scope, ...(args.tags ? { tags: args.tags } : {}) };
    let report: IngestReport | IngestFilesReport;
    if (args.paths) {
      const paths = await checkIngestPaths(args.paths, context.allowIngest ?? []);
      const { ingestFiles } = await import('@engram/adapters/files');
      report = await ingestFiles(memory, paths, options);
    } else {
      report = await memory.ingest(
        { text: args.text as string, title: args.title as string, ...(args.format ? { format: args.format } : {}) },
        options,
      );
    }
    return {
      text: ingestText(report),
      data: {
        documents: report.documents,
        chunks: report.chunks,
        bytes: report.bytes,
        failed: report.failed,
        duration_ms: report.durationMs,
      },
    };
  },
});

export const ingestTools: AnyToolDefinition[] = [memoryIngest];
