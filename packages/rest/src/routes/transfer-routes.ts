import { type AddInput, type Memory, ValidationError } from '@engram/core';
import { createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { ExportQuerySchema, ImportResultSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { listFilterFrom } from './request-values.js';
import { ERRORS, jsonContent, SECURITY } from './responses.js';

const tags = ['transfer'];
const JSONL = 'application/x-ndjson';

const exportRoute = createRoute({
  method: 'get',
  path: '/api/export',
  tags,
  summary: 'Every matching memory as JSON Lines (one memory per line, newest first), streamed',
  description: 'The format of `engram export`: every field, dates as ISO strings. Takes the filters of GET /api/memories.',
  security: SECURITY,
  request: { query: ExportQuerySchema },
  responses: { 200: { description: 'JSON Lines', content: { [JSONL]: { schema: z.string() } } }, ...ERRORS },
});

const importRoute = createRoute({
  method: 'post',
  path: '/api/import',
  tags,
  summary: 'Import JSON Lines (an export, or lines such as {"content": "…"}) in one transaction',
  description:
    'All or nothing: a bad line rejects the import (`field` is `line <n>`) and nothing is written. ' +
    'Exported ids are not kept (each memory gets a new one); deleted memories in an export are skipped.',
  security: SECURITY,
  request: { body: { content: { [JSONL]: { schema: z.string() } }, required: true } },
  responses: { 200: jsonContent(ImportResultSchema, 'What was written'), ...ERRORS },
});

/** Fields of an exported record that `add` does not take (the store mints or derives them). */
const EXPORT_ONLY_FIELDS = new Set([
  'id',
  'contentHash',
  'subtype',
  'accessCount',
  'lastAccessedAt',
  'updatedAt',
  'validFrom',
  'validTo',
  'supersededBy',
  'deletedAt',
]);

/** One JSONL line → what `addMany` takes, or 'skip' for a deleted memory. Throws ValidationError naming the line. */
export function parseImportLine(text: string, line: number): AddInput | 'skip' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError([{ field: `line ${line}`, message: 'is not valid JSON' }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError([{ field: `line ${line}`, message: 'must be a JSON object such as {"content": "…", "tags": ["ci"]}' }]);
  }
  const record = value as Record<string, unknown>;
  if (record.deletedAt !== undefined && record.deletedAt !== null) return 'skip';
  const input: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(record)) {
    if (EXPORT_ONLY_FIELDS.has(field) || fieldValue === null) continue;
    input[field] = fieldValue;
  }
  if (typeof record.subtype === 'string' && record.subtype.length > 0) input.type = record.subtype;
  const scope = input.scope;
  if (typeof scope === 'object' && scope !== null && !Array.isArray(scope) && Object.keys(scope).length === 0) delete input.scope;
  return input as AddInput;
}

const INDEXED = /^lines\.(\d+)(?:\.(.*))?$/;

export function registerTransferRoutes(app: EngramHono): void {
  app.openapi(exportRoute, async (context) => {
    const memory = context.get('memory');
    const filter = listFilterFrom(context.req.valid('query'));
    // Validate the filter before the 200 goes out: a bad filter must be a 400, not a broken stream.
    const first = await memory.list({ ...filter, limit: 1000 });
    context.header('content-type', `${JSONL}; charset=utf-8`);
    return stream(context, async (output) => {
      let page = first;
      for (;;) {
        if (page.items.length > 0) await output.write(`${page.items.map((record) => JSON.stringify(record)).join('\n')}\n`);
        if (page.nextCursor === null || output.aborted) break;
        page = await memory.list({ ...filter, limit: 1000, cursor: page.nextCursor });
      }
    }) as never;
  });

  app.openapi(importRoute, async (context) => {
    const text = await context.req.text();
    const inputs: AddInput[] = [];
    const lineNumbers: number[] = [];
    let records = 0;
    let skipped = 0;
    text.split('\n').forEach((raw, index) => {
      const trimmed = raw.trim();
      if (trimmed === '') return;
      records++;
      const parsed = parseImportLine(trimmed, index + 1);
      if (parsed === 'skip') skipped++;
      else {
        inputs.push(parsed);
        lineNumbers.push(index + 1);
      }
    });
    let results: Awaited<ReturnType<Memory['addMany']>>;
    try {
      results = await context.get('memory').addMany(inputs, 'lines');
    } catch (error) {
      if (!ValidationError.isInstance(error)) throw error;
      // Name the line, not the index among the imported lines.
      throw new ValidationError(
        error.issues.map((issue) => {
          const match = INDEXED.exec(issue.field);
          if (!match) return issue;
          const line = lineNumbers[Number(match[1])];
          return { field: `line ${line}${match[2] ? ` ${match[2]}` : ''}`, message: issue.message };
        }),
        { cause: error },
      );
    }
    const summary = { records, created: 0, updated: 0, duplicates: 0, skipped };
    for (const result of results) {
      if (result.status === 'created') summary.created++;
      else if (result.status === 'updated') summary.updated++;
      else summary.duplicates++;
    }
    return context.json(summary as never, 200);
  });
}
