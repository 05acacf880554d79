import { checkIngestPaths, type IngestFilesReport, ingestFiles } from '@engram/adapters/files';
import { type IngestOptions, type IngestReport, type IngestSource, type Scope, ValidationError } from '@engram/core';
import { createRoute, type z } from '@hono/zod-openapi';
import { IngestResultSchema, IngestSchema, IngestUploadSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { jsonParameter, splitList } from './request-values.js';
import { ERRORS, jsonContent, SECURITY } from './responses.js';

export const ingestRoute = createRoute({
  method: 'post',
  path: '/api/ingest',
  tags: ['maintenance'],
  summary: 'Ingest documents: text, uploaded files, or files on the server inside its --allow-ingest folders',
  description:
    'Reads documents into memory, one memory per structural chunk (Markdown headings and paragraphs, HTML blocks, PDF pages), ' +
    'each found by its title and heading path and linked `follows` in order. Re-ingesting an unchanged document writes nothing; ' +
    'a changed one replaces its chunks (history kept). A document that cannot be read or parsed is reported with its error and ' +
    'the rest is ingested.\n\n' +
    'Three ways: JSON `{ text, title, format? }` or `{ documents: [...] }`; `multipart/form-data` with one or more `file` fields ' +
    '(Markdown, text, HTML, JSON/JSONL, CSV, PDF, code: the format follows the file name); or JSON `{ paths }` naming files, ' +
    'folders or globs on the server — only inside the folders it was started with (`--allow-ingest <folder>`), after resolving ' +
    'symbolic links, as the MCP server’s memory_ingest does. Uploads may be as large as the import limit (default 64 MiB).',
  security: SECURITY,
  request: {
    body: {
      content: { 'application/json': { schema: IngestSchema }, 'multipart/form-data': { schema: IngestUploadSchema } },
      required: false,
    },
  },
  responses: { 200: jsonContent(IngestResultSchema, 'One entry per document, and chunk counts'), ...ERRORS },
});

export interface IngestRouteOptions {
  /** Folders `paths` may name. Default none: the route reads no server files. */
  allowIngest: readonly string[];
}

function reportJson(report: IngestReport | IngestFilesReport): unknown {
  return JSON.parse(JSON.stringify(report));
}

function settingsOf(body: { scope?: Scope; tags?: string[]; type?: string; chunk?: IngestOptions['chunk'] }): IngestOptions {
  return {
    ...(body.scope ? { scope: body.scope } : {}),
    ...(body.tags ? { tags: body.tags } : {}),
    ...(body.type !== undefined ? { type: body.type } : {}),
    ...(body.chunk ? { chunk: body.chunk } : {}),
  };
}

export function registerIngestRoutes(app: EngramHono, options: IngestRouteOptions): void {
  app.openapi(ingestRoute, async (context) => {
    const memory = context.get('memory');
    const contentType = context.req.header('content-type') ?? '';
    if (/^multipart\/form-data/i.test(contentType)) {
      // Each validator runs for its own media type only; the types of both reach here.
      const form = context.req.valid('form') as z.infer<typeof IngestUploadSchema>;
      const files = (Array.isArray(form.file) ? form.file : [form.file]).filter((file): file is File => file instanceof File);
      if (files.length === 0) throw new ValidationError([{ field: 'file', message: 'upload at least one file (form field "file")' }]);
      const scope = jsonParameter(form.scope, 'scope') as Scope | undefined;
      const tags = splitList(form.tags);
      const sources: IngestSource[] = [];
      for (const file of files) {
        if (!file.name) throw new ValidationError([{ field: 'file', message: 'each file needs a name: its extension gives the format' }]);
        sources.push({ buffer: new Uint8Array(await file.arrayBuffer()), filename: file.name });
      }
      const settings = settingsOf({ ...(scope ? { scope } : {}), ...(tags ? { tags } : {}), ...(form.type ? { type: form.type } : {}) });
      const report = await memory.ingest(sources, settings);
      return context.json(reportJson(report) as never, 200);
    }
    const body = context.req.valid('json') as z.infer<typeof IngestSchema>;
    const given = [body.text !== undefined, body.documents !== undefined, body.paths !== undefined].filter(Boolean).length;
    if (given !== 1) {
      throw new ValidationError([
        {
          field: given === 0 ? 'text' : 'paths',
          message:
            given === 0
              ? 'is missing: send { text, title }, { documents: [{ text, title }] }, { paths } (server files), or upload files as multipart/form-data'
              : 'send one of text, documents or paths',
        },
      ]);
    }
    if (body.text === undefined) {
      for (const field of ['title', 'source', 'format'] as const) {
        if (body[field] !== undefined) {
          throw new ValidationError([{ field, message: 'goes with text (each of documents carries its own)' }]);
        }
      }
    }
    if (body.prune !== undefined && body.paths === undefined) {
      throw new ValidationError([{ field: 'prune', message: 'goes with paths: it forgets documents under them whose file is gone' }]);
    }
    const settings = settingsOf(body);
    if (body.paths !== undefined) {
      const paths = await checkIngestPaths(body.paths, options.allowIngest);
      const report = await ingestFiles(memory, paths, { ...settings, ...(body.prune !== undefined ? { prune: body.prune } : {}) });
      return context.json(reportJson(report) as never, 200);
    }
    if (body.text !== undefined && body.title === undefined) {
      throw new ValidationError([{ field: 'title', message: 'is required with text (it names the document and heads its chunks)' }]);
    }
    const documents =
      body.documents ?? ([{ text: body.text as string, title: body.title as string, source: body.source, format: body.format }] as const);
    const sources: IngestSource[] = documents.map((document) => ({
      text: document.text,
      title: document.title,
      ...(document.source !== undefined ? { source: document.source } : {}),
      ...(document.format !== undefined ? { format: document.format } : {}),
    }));
    const report = await memory.ingest(sources, settings);
    return context.json(reportJson(report) as never, 200);
  });
}
