import { type AddInput, type ListOptions, type Memory, type Scope, ValidationError } from '@engram/core';
import { toJsonRecord } from './format.js';

/**
 * Export and import in JSON Lines: one memory per line, every field of `MemoryRecord`, dates as
 * ISO strings (see `toJsonRecord`). Import also takes minimal lines such as `{"content": "…"}`.
 */

export interface ExportOptions {
  /** Filters as `memory.list` takes them (scope, types, tags, time, where). */
  filter?: Omit<ListOptions, 'limit' | 'cursor' | 'includeDeleted'>;
  /** Also export soft-deleted memories (their `deletedAt` is set; import skips them). */
  includeDeleted?: boolean;
  /** Memories fetched per page. Default 1000. */
  pageSize?: number;
  /** Write sensitive memories decrypted. Default false: exported as stored (encrypted). */
  decrypt?: boolean;
}

/** Streams every matching memory, newest first, page by page; returns how many were written. */
export async function exportMemories(
  memory: Memory,
  write: (chunk: string) => Promise<void>,
  options: ExportOptions = {},
): Promise<number> {
  const pageSize = options.pageSize ?? 1000;
  let cursor: string | null = null;
  let count = 0;
  do {
    const page = await memory.list({
      ...options.filter,
      limit: pageSize,
      ...(cursor !== null ? { cursor } : {}),
      ...(options.includeDeleted ? { includeDeleted: true } : {}),
      decrypt: options.decrypt === true,
    });
    if (page.items.length > 0) await write(`${page.items.map((record) => JSON.stringify(toJsonRecord(record))).join('\n')}\n`);
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return count;
}

/**
 * Fields of an exported record that `add` does not take: the target store mints a new id, hashes
 * the content, starts access statistics afresh and sets updatedAt/validFrom itself. `subtype`
 * travels as `type` (a subtype resolves to its base type).
 */
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
  'decayScore',
]);

/** A line that cannot be imported; the message is the reason shown next to its line number. */
export class LineError extends Error {}

export type LineResult = { kind: 'input'; input: AddInput } | { kind: 'skip'; reason: string };

/** Parses one JSONL line (export format or minimal) into what `addMany` takes. Throws LineError. */
export function parseImportLine(line: string, defaults: { scope?: Scope } = {}): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new LineError(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineError('expected a JSON object such as {"content": "…", "type": "learning", "tags": ["ci"]}');
  }
  const record = value as Record<string, unknown>;
  if (record.deletedAt !== undefined && record.deletedAt !== null) return { kind: 'skip', reason: 'deleted memory' };
  const input: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(record)) {
    // null is how exports write "unset"; add's schema wants the field left out instead.
    if (EXPORT_ONLY_FIELDS.has(field) || fieldValue === null) continue;
    input[field] = fieldValue;
  }
  if (typeof record.subtype === 'string' && record.subtype.length > 0) input.type = record.subtype;
  const scope = input.scope;
  if (typeof scope === 'object' && scope !== null && !Array.isArray(scope) && Object.keys(scope).length === 0) delete input.scope;
  if (input.scope === undefined && defaults.scope) input.scope = defaults.scope;
  return { kind: 'input', input: input as AddInput };
}

export interface ImportProblem {
  line: number;
  reason: string;
}

export interface ImportSummary {
  /** Non-blank lines read. */
  records: number;
  created: number;
  /** Keyed memories that replaced a stored one with the same key and scope. */
  updated: number;
  /** Already stored (same content in the same scope, or an unchanged keyed memory): nothing written. */
  duplicates: number;
  /** Lines deliberately not imported (deleted memories in an export). */
  skipped: number;
  failed: number;
  /** The first `maxProblems` failures (all of them are also passed to `onProblem`). */
  problems: ImportProblem[];
  /** Set when a batch failed for a reason other than its own lines (store or embedder down): the import stopped there. */
  stoppedAt?: { line: number; error: unknown };
}

export interface ImportOptions {
  /** Memories per `addMany` call (one transaction each). Default 500. */
  batchSize?: number;
  /** Scope given to lines that have none. */
  scope?: Scope;
  /** Called for every line that cannot be imported, as soon as it is known. */
  onProblem?: (problem: ImportProblem) => void;
  /** Called for warnings on imported lines (e.g. an unknown type stored as observation). */
  onWarning?: (line: number, warning: string) => void;
  /** Called after each batch is written. */
  onProgress?: (summary: ImportSummary) => void;
  /** How many problems the summary keeps. Default 1000. */
  maxProblems?: number;
}

const INDEXED_FIELD = /^inputs\.(\d+)(?:\.(.*))?$/;

/**
 * Imports JSONL lines in batches through `memory.addMany`. Each batch is one transaction: a
 * batch is written whole or not at all. Bad lines are reported with their line number and left
 * out; the rest of the batch is written. A failure that is not about a line (the store or the
 * embedder failing) stops the import and is returned in `stoppedAt`.
 */
export async function importMemories(memory: Memory, lines: AsyncIterable<string>, options: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? 500;
  const maxProblems = options.maxProblems ?? 1000;
  const summary: ImportSummary = { records: 0, created: 0, updated: 0, duplicates: 0, skipped: 0, failed: 0, problems: [] };
  const problem = (line: number, reason: string) => {
    summary.failed++;
    if (summary.problems.length < maxProblems) summary.problems.push({ line, reason });
    options.onProblem?.({ line, reason });
  };

  let batch: Array<{ line: number; input: AddInput }> = [];
  const flush = async (): Promise<boolean> => {
    let pending = batch;
    batch = [];
    while (pending.length > 0) {
      try {
        const results = await memory.addMany(pending.map((item) => item.input));
        results.forEach((result, index) => {
          if (result.status === 'created') summary.created++;
          else if (result.status === 'updated') summary.updated++;
          else summary.duplicates++;
          for (const warning of result.warnings) options.onWarning?.((pending[index] as { line: number }).line, warning);
        });
        break;
      } catch (error) {
        const bad = badInput(error, pending.length);
        if (!bad) {
          summary.stoppedAt = { line: (pending[0] as { line: number }).line, error };
          return false;
        }
        // Validation runs before anything is written, so dropping the line and retrying is safe.
        problem((pending[bad.index] as { line: number }).line, bad.reason);
        pending = pending.filter((_, index) => index !== bad.index);
      }
    }
    options.onProgress?.(summary);
    return true;
  };

  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim().length === 0) continue;
    summary.records++;
    try {
      const parsed = parseImportLine(line, options.scope ? { scope: options.scope } : {});
      if (parsed.kind === 'skip') summary.skipped++;
      else batch.push({ line: lineNumber, input: parsed.input });
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      problem(lineNumber, error.message);
    }
    if (batch.length >= batchSize && !(await flush())) return summary;
  }
  if (batch.length > 0) await flush();
  else options.onProgress?.(summary);
  return summary;
}

/** Which input of a batch a ValidationError is about (fields look like `inputs.3.importance`). */
function badInput(error: unknown, size: number): { index: number; reason: string } | undefined {
  if (!ValidationError.isInstance(error)) return undefined;
  const first = INDEXED_FIELD.exec(error.field);
  if (!first) return undefined;
  const index = Number(first[1]);
  if (index >= size) return undefined;
  const reasons = error.issues.flatMap((issue) => {
    const match = INDEXED_FIELD.exec(issue.field);
    if (!match || Number(match[1]) !== index) return [];
    return [match[2] ? `${match[2]}: ${issue.message}` : issue.message];
  });
  return { index, reason: reasons.length > 0 ? reasons.join('; ') : error.message };
}
