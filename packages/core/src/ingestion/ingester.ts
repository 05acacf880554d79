import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { MemoryRecord, Scope } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';
import { type AddInput, scopeSchema, validate } from '../model/schema.js';
import { compactScope } from '../model/scope.js';
import type { AddResult } from '../write/writer.js';
import { type ChunkOptions, chunkBlocks, type DocumentChunk } from './chunk.js';
import { type DocumentFormat, formatOf, htmlTitle, markdownTitle, pageBlocks, parseBlocks } from './parse.js';

/**
 * What `ingest` reads: text with a title, or the bytes of a file with its name (the format
 * follows the extension). `source` names the document for idempotency (default: the filename,
 * else the title); re-ingesting the same source replaces its chunks.
 */
export type IngestSource =
  | { text: string; title: string; source?: string; format?: Exclude<DocumentFormat, 'pdf'> }
  | { buffer: Uint8Array; filename: string; source?: string; title?: string };

export interface IngestOptions {
  scope?: Scope;
  tags?: string[];
  /** Memory type of the chunks. Default 'observation'. */
  type?: string;
  chunk?: ChunkOptions;
  /** Largest document accepted, in bytes. Default 50 MB. */
  maxBytes?: number;
  /** Called after each document. */
  onProgress?: (progress: { documents: number; total: number; chunks: number; bytes: number }) => void;
}

export type IngestStatus = 'created' | 'updated' | 'unchanged' | 'failed';

export interface IngestedDocument {
  source: string;
  title: string;
  status: IngestStatus;
  /** Chunks the document has now. */
  chunks: number;
  bytes: number;
  /** Why it failed (status 'failed'): nothing of it was written. */
  error?: string;
}

export interface IngestReport {
  documents: IngestedDocument[];
  chunks: { created: number; updated: number; unchanged: number; deleted: number };
  bytes: number;
  failed: number;
  durationMs: number;
}

/** Turns PDF bytes into page texts and a title. Supplied by the `engram` package (unpdf); core reads no PDF itself. */
export type PdfReader = (bytes: Uint8Array) => Promise<{ pages: string[]; title?: string }>;

/** One document's write: its chunks in order, and its stored chunks the new version no longer has. */
export interface DocumentWrite {
  inputs: AddInput[];
  remove: MemoryRecord[];
}

export interface DocumentWritten {
  /** By position in `inputs`. */
  results: AddResult[];
  /** How many of `remove` were deleted (others were gone already). */
  deleted: number;
}

export interface IngesterContext {
  open: () => Promise<unknown>;
  /**
   * Writes documents' chunks (embedded in one pass), soft-deletes each one's `remove` and links
   * its chunks `follows` in order — all in one store transaction. Bad input is a ValidationError
   * and writes nothing.
   */
  writeDocuments: (documents: DocumentWrite[]) => Promise<DocumentWritten[]>;
  /** Every live memory of exactly this scope ingested from one of these sources, by source (one pass for a whole call). */
  chunksOf: (scope: Scope, sources: string[]) => Promise<Map<string, MemoryRecord[]>>;
  pdf?: PdfReader;
}

const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
/** Chunks gathered before a batch of documents is written (one embedding pass, one transaction). */
const BATCH_CHUNKS = 512;

interface PendingDocument {
  source: string;
  title: string;
  bytes: number;
  /** How many chunks the document had stored (0: a new document). */
  existing: number;
  write: DocumentWrite;
}

const optionsSchema = z
  .object({
    scope: scopeSchema.optional(),
    tags: z.array(z.string().max(200)).max(100).optional(),
    type: z.string().trim().min(1).max(100).optional(),
    chunk: z
      .object({
        targetTokens: z.number().int().min(16).max(8000).optional(),
        overlapTokens: z.number().int().min(0).max(2000).optional(),
      })
      .strict()
      .refine((chunk) => (chunk.overlapTokens ?? 40) < (chunk.targetTokens ?? 400), 'overlapTokens must be smaller than targetTokens')
      .optional(),
    maxBytes: z.number().int().positive().optional(),
    onProgress: z.custom<IngestOptions['onProgress']>((value) => typeof value === 'function', 'must be a function').optional(),
  })
  .strict();

/**
 * Document ingestion: parse → structural chunks → one keyed memory per chunk, linked `follows`
 * in order. A chunk's key is derived from its source and position, so re-ingesting updates in
 * place (history kept) and an unchanged document writes nothing; chunks a shorter new version no
 * longer has are soft-deleted. A document that cannot be read or parsed is reported and skipped.
 */
export class Ingester {
  constructor(private readonly context: IngesterContext) {}

  async ingest(input: IngestSource | IngestSource[], rawOptions: IngestOptions = {}): Promise<IngestReport> {
    const started = performance.now();
    const options = validate(optionsSchema, rawOptions ?? {}, 'options');
    const sources = Array.isArray(input) ? input : [input];
    if (sources.length === 0) throw new ValidationError([{ field: 'source', message: 'name at least one document' }]);
    await this.context.open();
    const report: IngestReport = {
      documents: [],
      chunks: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
      bytes: 0,
      failed: 0,
      durationMs: 0,
    };
    const scope = compactScope(options.scope);
    const stored = await this.context.chunksOf(scope, [...new Set(sources.map(sourceName))]);
    const done = (document: IngestedDocument) => {
      report.documents.push(document);
      report.bytes += document.bytes;
      if (document.status === 'failed') report.failed++;
      options.onProgress?.({
        documents: report.documents.length,
        total: sources.length,
        chunks: report.chunks.created + report.chunks.updated + report.chunks.unchanged,
        bytes: report.bytes,
      });
    };
    // Documents to write are gathered into batches of about BATCH_CHUNKS chunks: one embedding
    // pass and one store transaction per batch instead of several per document.
    let pending: PendingDocument[] = [];
    let pendingChunks = 0;
    const flush = async () => {
      const batch = pending;
      pending = [];
      pendingChunks = 0;
      for (const document of await this.write(batch, report)) done(document);
    };
    for (const source of sources) {
      const planned = await this.plan(source, scope, options, report, stored.get(sourceName(source)) ?? []);
      if ('status' in planned) {
        // Reported in order: what is pending goes first.
        if (pending.length > 0) await flush();
        done(planned);
        continue;
      }
      pending.push(planned);
      pendingChunks += planned.write.inputs.length;
      if (pendingChunks >= BATCH_CHUNKS) await flush();
    }
    if (pending.length > 0) await flush();
    report.durationMs = performance.now() - started;
    return report;
  }

  /** Writes a batch of documents in one transaction; one by one when one of them is bad input. */
  private async write(batch: PendingDocument[], report: IngestReport): Promise<IngestedDocument[]> {
    let written: DocumentWritten[];
    try {
      written = await this.context.writeDocuments(batch.map((document) => document.write));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      if (batch.length === 1) {
        const [document] = batch as [PendingDocument];
        return [
          { source: document.source, title: document.title, status: 'failed', chunks: 0, bytes: document.bytes, error: error.message },
        ];
      }
      // Find the bad document(s): the others are written, each in its own transaction.
      const documents: IngestedDocument[] = [];
      for (const document of batch) documents.push(...(await this.write([document], report)));
      return documents;
    }
    return batch.map((document, index) => {
      const { results, deleted } = written[index] as DocumentWritten;
      for (const result of results) {
        if (result.status === 'created') report.chunks.created++;
        else if (result.status === 'updated') report.chunks.updated++;
        else report.chunks.unchanged++;
      }
      report.chunks.deleted += deleted;
      return {
        source: document.source,
        title: document.title,
        status: document.existing === 0 ? 'created' : 'updated',
        chunks: results.length,
        bytes: document.bytes,
      };
    });
  }

  /** Reads and chunks one document: what to write, or its final report entry (failed, unchanged). */
  private async plan(
    source: IngestSource,
    scope: Scope,
    options: z.output<typeof optionsSchema>,
    report: IngestReport,
    existing: MemoryRecord[],
  ): Promise<IngestedDocument | PendingDocument> {
    const name = sourceName(source);
    const bytes = 'buffer' in source ? source.buffer.byteLength : Buffer.byteLength(source.text);
    const failed = (title: string, error: string): IngestedDocument => ({ source: name, title, status: 'failed', chunks: 0, bytes, error });
    let parsed: { title: string; chunks: DocumentChunk[]; hash: string };
    try {
      if (bytes > (options.maxBytes ?? DEFAULT_MAX_BYTES)) {
        throw new Error(
          `too large: ${bytes} bytes (the limit is ${options.maxBytes ?? DEFAULT_MAX_BYTES}; raise maxBytes or split the file)`,
        );
      }
      parsed = await this.parse(source, options.chunk ?? {});
    } catch (error) {
      return failed('title' in source && source.title ? source.title : name, (error as Error).message);
    }
    if (parsed.chunks.length === 0) return failed(parsed.title, 'no text found');

    const documentHash = parsed.hash;
    if (existing.length === parsed.chunks.length && existing.every((record) => record.metadata.documentHash === documentHash)) {
      report.chunks.unchanged += existing.length;
      return { source: name, title: parsed.title, status: 'unchanged', chunks: existing.length, bytes };
    }
    const sourceKey = createHash('sha256').update(name).digest('hex').slice(0, 24);
    const inputs: AddInput[] = parsed.chunks.map((chunk, index) => ({
      content: chunk.content,
      context: [parsed.title, ...chunk.headings].filter((part) => part.length > 0).join(' > '),
      type: options.type ?? 'observation',
      ...(options.tags ? { tags: options.tags } : {}),
      scope,
      key: `ingest:${sourceKey}:${index}`,
      source: name,
      metadata: {
        source: name,
        title: parsed.title,
        chunk: index,
        chunks: parsed.chunks.length,
        offset: chunk.offset,
        ...(chunk.page !== undefined ? { page: chunk.page } : {}),
        ...(chunk.headings.length > 0 ? { headings: chunk.headings } : {}),
        documentHash,
      },
    }));
    // A chunk is keyed by source and position, and a keyed write is an upsert by key: the stored
    // chunks whose key the new version no longer has are the leftovers.
    const keys = new Set(inputs.map((input) => input.key));
    return {
      source: name,
      title: parsed.title,
      bytes,
      existing: existing.length,
      write: { inputs, remove: existing.filter((record) => !keys.has(record.key ?? undefined)) },
    };
  }

  private async parse(source: IngestSource, chunk: ChunkOptions): Promise<{ title: string; chunks: DocumentChunk[]; hash: string }> {
    if ('text' in source) {
      const format = source.format ?? (source.source ? formatOf(source.source) : undefined) ?? 'text';
      if (format === 'pdf') throw new Error('PDF is read from bytes: pass { buffer, filename }');
      return {
        title: source.title,
        chunks: chunkBlocks(parseBlocks(source.text, format), chunk),
        hash: hashOf(`${format}\u0000${JSON.stringify(chunk)}\u0000${source.text}`),
      };
    }
    const format = formatOf(source.filename);
    if (!format)
      throw new Error(`unsupported file type: ${source.filename} (Markdown, text, HTML, JSON, JSONL, CSV, PDF and code files are read)`);
    const hash = hashOf(`${format}\u0000${JSON.stringify(chunk)}\u0000`, source.buffer);
    const fallbackTitle = baseName(source.filename);
    if (format === 'pdf') {
      if (!this.context.pdf)
        throw new Error('reading PDF needs a PDF reader: use Memory from the engram package (unpdf), or pass ingestion.pdf');
      if (!startsWith(source.buffer, '%PDF-')) throw new Error('not a PDF (no %PDF- header)');
      const { pages, title } = await this.context.pdf(source.buffer);
      return { title: source.title ?? title ?? fallbackTitle, chunks: chunkBlocks(pageBlocks(pages), chunk), hash };
    }
    if (source.buffer.includes(0)) throw new Error('binary file (it contains NUL bytes): not text');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(source.buffer);
    } catch {
      throw new Error('not UTF-8 text');
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const title =
      source.title ?? (format === 'html' ? htmlTitle(text) : format === 'markdown' ? markdownTitle(text) : undefined) ?? fallbackTitle;
    return { title, chunks: chunkBlocks(parseBlocks(text, format), chunk), hash };
  }
}

function sourceName(source: IngestSource): string {
  if (source.source) return source.source;
  return 'filename' in source ? source.filename : source.title;
}

function hashOf(prefix: string, bytes?: Uint8Array): string {
  const hash = createHash('sha256').update(prefix);
  if (bytes) hash.update(bytes);
  return hash.digest('hex');
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  // A PDF may have a few bytes (a BOM, whitespace) before its header.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  return head.includes(prefix);
}

function baseName(filename: string): string {
  return filename.replace(/^.*[\\/]/, '');
}
