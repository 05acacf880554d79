import { checkIngestPaths, type IngestFilesReport } from '@engram/adapters/files';
import { type IngestReport, ValidationError } from '@engram/core';
import { z } from 'zod';
import { type AnyToolDefinition, defineTool, scopeArguments, scopeOf } from './tool-kit.js';

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
