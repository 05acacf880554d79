import { EventEmitter } from 'eventemitter3';
import type { Embedder } from './contracts/embedder.js';
import type { MemoryStore, StoreWrite, StoreWriteResult, WriteStatus } from './contracts/memory-store.js';
import type { MemoryFilter, MemoryRecord, Scope } from './contracts/model.js';
import type { VectorIndex } from './contracts/vector-index.js';
import { EmbedderError, EmbedderMismatchError, EngramError, NotFoundError, ValidationError } from './errors.js';
import type { MemoryEventName, MemoryEvents } from './events.js';
import { scopeKey } from './filter.js';
import { uuidv7 } from './ids.js';
import { Ontology, type OntologyOptions } from './ontology.js';
import {
  type Explanation,
  type ResolvedRetrievalOptions,
  type RetrievalOptions,
  collectCandidates,
  resolveRetrievalOptions,
  scoreCandidate,
} from './retrieval.js';
import {
  type AddInput,
  type ContextOptions,
  type CountFilter,
  DEFAULT_MAX_CONTENT_BYTES,
  type ListOptions,
  type ParsedAddInput,
  type SearchOptions,
  type UpdatePatch,
  addInputSchema,
  contextOptionsSchema,
  countFilterSchema,
  listOptionsSchema,
  searchOptionsSchema,
  updatePatchSchema,
  validate,
} from './schema.js';
import { contentHash, estimateTokens, normaliseTags } from './text.js';
import { parseTimeWindow } from './time-window.js';
import { parseWhere } from './where.js';

export interface DedupOptions {
  /**
   * Also treat semantically near-identical memories (cosine similarity ≥ threshold) in the same
   * scope as duplicates. Off by default. Skipped for memories that carry a `conversationId`
   * (a conversation legitimately repeats itself).
   */
  semantic?: boolean;
  /** Similarity at or above which a memory is a near duplicate. Default 0.95. */
  threshold?: number;
  /** Only memories created within this window count. Default 24 hours. */
  windowMs?: number;
}

export interface MemoryOptions {
  store: MemoryStore;
  embedder: Embedder;
  /** A separate vector index (e.g. Qdrant). Default: the store's own, when it has one. */
  vectors?: VectorIndex;
  /** Extra types/subtypes, and `strict` to reject unknown types. */
  ontology?: OntologyOptions;
  dedup?: DedupOptions;
  retrieval?: RetrievalOptions;
  /** Largest content accepted, in UTF-8 bytes. Default 1,000,000. */
  maxContentBytes?: number;
  /** Where warnings go besides the `warning` event. Default: console.warn. `false` silences them. */
  logger?: ((message: string) => void) | false;
  /** The clock (tests). Default Date.now. */
  now?: () => number;
}

export interface AddResult {
  memory: MemoryRecord;
  status: WriteStatus;
  warnings: string[];
}

export interface SearchHit {
  memory: MemoryRecord;
  /** 0–1; see `Explanation` for how it is made. */
  score: number;
  explanation?: Explanation;
}

export interface ListResult {
  items: MemoryRecord[];
  nextCursor: string | null;
}

export interface ContextResult {
  /** Prompt-ready text: one line per memory, best first, within the token budget. */
  text: string;
  /** Estimated tokens of `text` (about 4 characters a token). */
  tokens: number;
  /** The hits that made it into `text`, in order. */
  hits: SearchHit[];
}

type Mode = 'hybrid' | 'vector' | 'lexical';

const QUERY_CACHE_SIZE = 512;
const MAX_QUERY_CHARS = 100_000;

/**
 * Long-term memory for an agent: typed memories, hybrid retrieval, events.
 * The constructor does no I/O; the store opens on first use.
 */
export class Memory {
  readonly ontology: Ontology;
  readonly store: MemoryStore;
  readonly embedder: Embedder;
  private readonly externalVectors: VectorIndex | undefined;
  private vectors: VectorIndex | undefined;
  private readonly emitter = new EventEmitter<MemoryEvents>();
  private readonly retrieval: ResolvedRetrievalOptions;
  private readonly dedup: Required<DedupOptions>;
  private readonly maxContentBytes: number;
  private readonly log: (message: string) => void;
  private readonly now: () => number;
  private readyPromise: Promise<void> | undefined;
  private closed = false;
  private readonly queryCache = new Map<string, Float32Array>();
  private pendingAccess = new Set<string>();
  private accessFlush: Promise<void> | undefined;
  private readonly warnedOnce = new Set<string>();

  constructor(options: MemoryOptions) {
    if (!options || typeof options !== 'object') {
      throw new ValidationError([{ field: 'options', message: 'pass { store, embedder } (or use `new Memory()` from the engram package for defaults)' }]);
    }
    if (!options.store || typeof options.store.write !== 'function') {
      throw new ValidationError([{ field: 'store', message: 'is required: a MemoryStore such as sqliteStore({ path }) or inMemoryStore()' }]);
    }
    const embedder = options.embedder;
    if (!embedder || typeof embedder.embed !== 'function' || !Number.isInteger(embedder.dimensions) || embedder.dimensions <= 0 || !embedder.id) {
      throw new ValidationError([{ field: 'embedder', message: 'is required: an object { specificationVersion, id, dimensions, embed(texts) } such as hashEmbedder()' }]);
    }
    this.store = options.store;
    this.embedder = embedder;
    this.externalVectors = options.vectors;
    this.ontology = new Ontology(options.ontology);
    try {
      this.retrieval = resolveRetrievalOptions(options.retrieval);
    } catch (error) {
      throw new ValidationError([{ field: 'retrieval', message: (error as Error).message }]);
    }
    this.dedup = {
      semantic: options.dedup?.semantic ?? false,
      threshold: options.dedup?.threshold ?? 0.95,
      windowMs: options.dedup?.windowMs ?? 86_400_000,
    };
    if (!(this.dedup.threshold > 0 && this.dedup.threshold <= 1)) {
      throw new ValidationError([{ field: 'dedup.threshold', message: 'must be in (0, 1]' }]);
    }
    this.maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
    const logger = options.logger === undefined ? (message: string) => console.warn(`[engram] ${message}`) : options.logger;
    this.log = logger === false ? () => {} : logger;
    this.now = options.now ?? Date.now;
  }

  // ---------------------------------------------------------------- events

  on<Name extends MemoryEventName>(event: Name, handler: MemoryEvents[Name]): this {
    this.emitter.on(event, handler as never);
    return this;
  }

  once<Name extends MemoryEventName>(event: Name, handler: MemoryEvents[Name]): this {
    this.emitter.once(event, handler as never);
    return this;
  }

  off<Name extends MemoryEventName>(event: Name, handler?: MemoryEvents[Name]): this {
    this.emitter.off(event, handler as never);
    return this;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the store and checks the embedder. Called by every method; call it early to fail fast. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new EngramError('CLOSED', 'This Memory is closed. Create a new one to keep working.'));
    this.readyPromise ??= this.initialise().catch((error: unknown) => {
      this.readyPromise = undefined;
      throw error;
    });
    return this.readyPromise;
  }

  private async initialise(): Promise<void> {
    await this.store.open();
    const supplied = { id: this.embedder.id, dimensions: this.embedder.dimensions };
    const stored = await this.store.getEmbedder();
    if (stored && (stored.id !== supplied.id || stored.dimensions !== supplied.dimensions)) {
      throw new EmbedderMismatchError(stored, supplied, this.store.location ?? `${this.store.name} store`);
    }
    if (!stored) await this.store.setEmbedder(supplied);
    this.vectors = this.externalVectors ?? (this.store.capabilities.vectors ? this.store.vectors : undefined);
    if (this.vectors) await this.vectors.open(this.embedder.dimensions);
    else this.warnOnce('no-vectors', `The ${this.store.name} store has no vector index and none was given: search runs lexical only.`);
    if (this.store.capabilities.lexical === 'none' || !this.store.lexicalSearch) {
      this.warnOnce('no-lexical', `The ${this.store.name} store has no lexical search: search runs on vectors only.`);
    }
  }

  /** Writes pending access statistics and closes the store. Further calls fail with code CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.readyPromise) {
      await this.readyPromise.catch(() => {});
      await this.flushAccess();
    }
    this.closed = true;
    if (this.externalVectors?.close) await this.externalVectors.close();
    await this.store.close();
    this.emitter.removeAllListeners();
  }

  // ---------------------------------------------------------------- writing

  /** Stores one memory. An exact duplicate in the same scope returns the existing one. */
  async add(input: AddInput): Promise<AddResult> {
    const [result] = await this.addMany([input], 'input');
    return result as AddResult;
  }

  /** Stores many memories in one transaction with batched embedding. Bad input writes nothing. */
  async addMany(inputs: AddInput[], root = 'inputs'): Promise<AddResult[]> {
    if (!Array.isArray(inputs)) throw new ValidationError([{ field: root, message: 'must be an array of memories' }]);
    const prepared = inputs.map((input, index) => this.prepare(input, root === 'input' ? '' : `${root}.${index}`));
    await this.ready();
    if (prepared.length === 0) return [];

    // Exact duplicates already stored: answer without embedding (keyed inputs go to the store).
    const existingByKey = new Map<string, MemoryRecord>();
    const byScope = new Map<string, { scope: Scope; hashes: string[] }>();
    for (const { record } of prepared) {
      if (record.key !== null) continue;
      const key = scopeKey(record.scope);
      const group = byScope.get(key) ?? { scope: record.scope, hashes: [] };
      group.hashes.push(record.contentHash);
      byScope.set(key, group);
    }
    for (const [key, group] of byScope) {
      for (const existing of await this.store.findByHashes(group.scope, group.hashes)) existingByKey.set(`${key}|${existing.contentHash}`, existing);
    }

    const results: Array<AddResult | undefined> = new Array(prepared.length);
    const toWrite: Array<{ index: number; record: MemoryRecord; warnings: string[] }> = [];
    prepared.forEach(({ record, warnings }, index) => {
      const existing = record.key === null ? existingByKey.get(`${scopeKey(record.scope)}|${record.contentHash}`) : undefined;
      if (existing) results[index] = { memory: existing, status: 'duplicate', warnings };
      else toWrite.push({ index, record, warnings });
    });

    if (toWrite.length > 0) {
      const vectors = this.vectors ? await this.embedMany(toWrite.map((item) => item.record.content)) : undefined;
      if (this.dedup.semantic && vectors) {
        for (let position = toWrite.length - 1; position >= 0; position--) {
          const item = toWrite[position] as (typeof toWrite)[number];
          if (item.record.conversationId !== null) continue;
          const near = await this.findNearDuplicate(item.record, vectors[position] as Float32Array);
          if (near) {
            results[item.index] = { memory: near, status: 'duplicate', warnings: item.warnings };
            toWrite.splice(position, 1);
            vectors.splice(position, 1);
          }
        }
      }
      const ownVectors = this.vectors !== undefined && this.vectors === this.store.vectors;
      const writes: StoreWrite[] = toWrite.map((item, position) => ({
        record: item.record,
        ...(ownVectors && vectors ? { vector: vectors[position] as Float32Array } : {}),
      }));
      const written: StoreWriteResult[] = writes.length > 0 ? await this.store.write(writes) : [];
      if (this.vectors && !ownVectors && vectors) {
        const upserts = written.flatMap((result, position) =>
          result.status === 'duplicate' ? [] : [{ id: result.record.id, vector: vectors[position] as Float32Array, payload: result.record }],
        );
        if (upserts.length > 0) await this.vectors.upsert(upserts);
      }
      written.forEach((result, position) => {
        const item = toWrite[position] as (typeof toWrite)[number];
        results[item.index] = { memory: result.record, status: result.status, warnings: item.warnings };
      });
      this.queryCache.clear();
      for (const result of written) {
        if (result.status !== 'duplicate') this.emitter.emit('memory:added', { memory: result.record, status: result.status });
      }
    }
    return results as AddResult[];
  }

  private prepare(input: AddInput, root: string): { record: MemoryRecord; warnings: string[] } {
    const parsed: ParsedAddInput = validate(addInputSchema, input, root);
    const field = (name: string) => (root ? `${root}.${name}` : name);
    const content = parsed.content;
    if (content.trim().length === 0) throw new ValidationError([{ field: field('content'), message: 'is empty: store some text' }]);
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > this.maxContentBytes) {
      throw new ValidationError([
        { field: field('content'), message: `is ${bytes} bytes, over the ${this.maxContentBytes}-byte limit: split it, or raise maxContentBytes` },
      ]);
    }
    const warnings: string[] = [];
    const resolved = this.ontology.resolve(parsed.type, field('type'));
    if (resolved.warning) warnings.push(resolved.warning);
    const now = new Date(this.now());
    const record: MemoryRecord = {
      id: uuidv7(now.getTime()),
      content,
      contentHash: contentHash(content),
      type: resolved.type,
      subtype: resolved.subtype,
      tags: normaliseTags(parsed.tags ?? []),
      metadata: parsed.metadata ?? {},
      scope: compactScope(parsed.scope),
      conversationId: parsed.conversationId ?? null,
      importance: parsed.importance ?? 0.5,
      quality: parsed.quality ?? null,
      accessCount: 0,
      lastAccessedAt: null,
      createdAt: parsed.createdAt ?? now,
      updatedAt: now,
      validFrom: parsed.createdAt ?? now,
      validTo: null,
      supersededBy: null,
      deletedAt: null,
      key: parsed.key ?? null,
      source: parsed.source ?? null,
      confidence: parsed.confidence ?? null,
      emotion: parsed.emotion ?? null,
      emotionalValence: parsed.emotionalValence ?? null,
      emotionalArousal: parsed.emotionalArousal ?? null,
      episodeId: parsed.episodeId ?? null,
      sequenceNumber: parsed.sequenceNumber ?? null,
      precedingMemoryId: parsed.precedingMemoryId ?? null,
      sourceType: parsed.sourceType ?? null,
      credibility: parsed.credibility ?? null,
    };
    return { record, warnings };
  }

  private async findNearDuplicate(record: MemoryRecord, vector: Float32Array): Promise<MemoryRecord | undefined> {
    if (!this.vectors) return undefined;
    const [best] = await this.vectors.search(vector, 1, {
      scope: record.scope,
      after: new Date(this.now() - this.dedup.windowMs),
    });
    if (!best || best.similarity < this.dedup.threshold) return undefined;
    const [existing] = await this.store.get([best.id]);
    return existing;
  }

  /** Changes content, tags, metadata, type or importance. Re-embeds when the content changes. */
  async update(id: string, patch: UpdatePatch): Promise<MemoryRecord> {
    const memoryId = this.validateId(id);
    const parsed = validate(updatePatchSchema, patch, 'patch');
    await this.ready();
    const [previous] = await this.store.get([memoryId]);
    if (!previous) throw new NotFoundError('Memory', memoryId);
    const now = new Date(this.now());
    const changes: Parameters<MemoryStore['update']>[1] = { updatedAt: now };
    if (parsed.content !== undefined && parsed.content !== previous.content) {
      if (parsed.content.trim().length === 0) throw new ValidationError([{ field: 'patch.content', message: 'is empty: store some text' }]);
      const bytes = Buffer.byteLength(parsed.content, 'utf8');
      if (bytes > this.maxContentBytes) {
        throw new ValidationError([{ field: 'patch.content', message: `is ${bytes} bytes, over the ${this.maxContentBytes}-byte limit` }]);
      }
      changes.content = parsed.content;
      changes.contentHash = contentHash(parsed.content);
    }
    if (parsed.type !== undefined) {
      const resolved = this.ontology.resolve(parsed.type, 'patch.type');
      if (resolved.warning) this.log(resolved.warning);
      changes.type = resolved.type;
      changes.subtype = resolved.subtype;
    }
    if (parsed.tags !== undefined) changes.tags = normaliseTags(parsed.tags);
    if (parsed.metadata !== undefined) changes.metadata = parsed.metadata;
    if (parsed.importance !== undefined) changes.importance = parsed.importance;

    const ownVectors = this.vectors !== undefined && this.vectors === this.store.vectors;
    // An external index keeps a payload copy of filterable fields: refresh it on any change.
    const needsVector = this.vectors !== undefined && (changes.content !== undefined || !ownVectors);
    const vector = needsVector ? (await this.embedMany([changes.content ?? previous.content]))[0] : undefined;
    const updated = await this.store.update(memoryId, changes, ownVectors ? vector : undefined);
    if (!updated) throw new NotFoundError('Memory', memoryId);
    if (this.vectors && !ownVectors && vector) await this.vectors.upsert([{ id: memoryId, vector, payload: updated }]);
    this.queryCache.clear();
    this.emitter.emit('memory:updated', { memory: updated, previous });
    return updated;
  }

  /** Soft delete: the memory disappears from get, search, list and count. False when unknown. */
  async delete(id: string): Promise<boolean> {
    const memoryId = this.validateId(id);
    await this.ready();
    const [existing] = await this.store.get([memoryId]);
    if (!existing) return false;
    const deleted = await this.store.delete(memoryId, new Date(this.now()));
    if (!deleted) return false;
    if (this.vectors && this.vectors !== this.store.vectors) await this.vectors.delete([memoryId]);
    this.emitter.emit('memory:deleted', { id: memoryId, memory: existing });
    return true;
  }

  // ---------------------------------------------------------------- reading

  /** The memory, or null when unknown or deleted. */
  async get(id: string): Promise<MemoryRecord | null> {
    const memoryId = this.validateId(id);
    await this.ready();
    await this.flushAccess();
    const [record] = await this.store.get([memoryId]);
    return record ?? null;
  }

  /** Newest first, with a cursor for the next page. */
  async list(options: ListOptions = {}): Promise<ListResult> {
    const parsed = validate(listOptionsSchema, options, 'options');
    const filter = this.buildFilter(parsed);
    await this.ready();
    await this.flushAccess();
    return this.store.list(filter, {
      limit: parsed.limit ?? 50,
      ...(parsed.cursor !== undefined ? { cursor: parsed.cursor } : {}),
      ...(parsed.includeDeleted ? { includeDeleted: true } : {}),
    });
  }

  /** How many live memories match. */
  async count(filter: CountFilter = {}): Promise<number> {
    const parsed = validate(countFilterSchema, filter, 'filter');
    const memoryFilter = this.buildFilter(parsed);
    await this.ready();
    return this.store.count(memoryFilter);
  }

  /** Hybrid (lexical + vector) search with filters applied inside each candidate query. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const started = performance.now();
    if (typeof query !== 'string') throw new ValidationError([{ field: 'query', message: 'must be a string' }]);
    if (query.length > MAX_QUERY_CHARS) throw new ValidationError([{ field: 'query', message: `is longer than ${MAX_QUERY_CHARS} characters` }]);
    const parsed = validate(searchOptionsSchema, options, 'options');
    const filter = this.buildFilter(parsed);
    await this.ready();
    const limit = parsed.limit ?? 10;
    const requested: Mode = parsed.mode ?? 'hybrid';
    const useLexical = requested !== 'vector' && this.store.capabilities.lexical === 'bm25' && this.store.lexicalSearch !== undefined;
    const useVector = requested !== 'lexical' && this.vectors !== undefined;
    if (requested === 'vector' && !useVector) throw new ValidationError([{ field: 'options.mode', message: 'is "vector" but this Memory has no vector index' }]);
    if (requested === 'lexical' && !useLexical) throw new ValidationError([{ field: 'options.mode', message: `is "lexical" but the ${this.store.name} store has no lexical search` }]);
    if (query.trim().length === 0) return [];

    const candidateCount = this.retrieval.candidates ?? Math.max(limit * 4, 40);
    const [lexical, vector] = await Promise.all([
      useLexical ? (this.store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>).call(this.store, query, filter, candidateCount) : [],
      useVector ? this.embedQuery(query).then((embedding) => (this.vectors as VectorIndex).search(embedding, candidateCount, filter)) : [],
    ]);
    const candidates = collectCandidates(lexical, vector);
    const records = await this.store.get([...candidates.keys()]);
    const now = this.now();
    const lists = { lexical: useLexical, vector: useVector };
    const hits: SearchHit[] = [];
    for (const record of records) {
      const candidate = candidates.get(record.id);
      if (!candidate) continue;
      const explanation = scoreCandidate(candidate, record, lists, this.retrieval, now);
      if (parsed.minScore !== undefined && explanation.score < parsed.minScore) continue;
      hits.push(parsed.explain ? { memory: record, score: explanation.score, explanation } : { memory: record, score: explanation.score });
    }
    hits.sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? 1 : -1));
    const top = hits.slice(0, limit);
    this.recordAccess(top.map((hit) => hit.memory.id));
    const mode: Mode = useLexical && useVector ? 'hybrid' : useVector ? 'vector' : 'lexical';
    this.emitter.emit('search', { query, mode, hits: top.length, durationMs: performance.now() - started });
    return top;
  }

  /** The best memories for a query, packed into a prompt-ready block within a token budget. */
  async context(options: ContextOptions): Promise<ContextResult> {
    const parsed = validate(contextOptionsSchema, options, 'options');
    const { query, tokenBudget = 1000, limit = 50, ...searchOptions } = parsed;
    const hits = await this.search(query, { ...searchOptions, limit });
    const header = 'Relevant memories (most relevant first):';
    const lines: string[] = [];
    const included: SearchHit[] = [];
    let tokens = estimateTokens(header);
    for (const hit of hits) {
      const memory = hit.memory;
      const label = memory.subtype ? `${memory.type}/${memory.subtype}` : memory.type;
      const tags = memory.tags.length > 0 ? ` #${memory.tags.join(' #')}` : '';
      let line = `- [${label}, ${memory.createdAt.toISOString().slice(0, 10)}] ${memory.content.replace(/\s+/g, ' ').trim()}${tags}`;
      let cost = estimateTokens(`\n${line}`);
      if (tokens + cost > tokenBudget) {
        // Truncate the first memory rather than return nothing; skip later ones that do not fit.
        if (included.length > 0) continue;
        const room = (tokenBudget - tokens) * 4 - 4;
        if (room < 40) break;
        line = `${line.slice(0, room)}…`;
        cost = estimateTokens(`\n${line}`);
      }
      lines.push(line);
      included.push(hit);
      tokens += cost;
    }
    const text = lines.length > 0 ? `${header}\n${lines.join('\n')}` : '';
    return { text, tokens: text ? tokens : 0, hits: included };
  }

  // ---------------------------------------------------------------- internals

  private validateId(id: unknown): string {
    if (typeof id !== 'string' || id.trim().length === 0 || id.length > 256) {
      throw new ValidationError([{ field: 'id', message: 'must be a non-empty string id (as returned by add)' }]);
    }
    return id.trim();
  }

  /** Turns validated caller filters into the store's normalised `MemoryFilter`. */
  private buildFilter(options: {
    scope?: Scope | undefined;
    conversationId?: string | undefined;
    types?: string[] | undefined;
    tags?: string[] | { any?: string[] | undefined; all?: string[] | undefined } | undefined;
    after?: Date | undefined;
    before?: Date | undefined;
    time?: string | undefined;
    where?: unknown;
    includeSuperseded?: boolean | undefined;
  }): MemoryFilter {
    const filter: MemoryFilter = {};
    const scope = compactScope(options.scope);
    if (Object.keys(scope).length > 0) filter.scope = scope;
    if (options.conversationId !== undefined) filter.conversationId = options.conversationId;
    if (options.types !== undefined && options.types.length > 0) Object.assign(filter, this.ontology.resolveFilter(options.types, 'options.types'));
    if (options.tags !== undefined) {
      const any = normaliseTags(Array.isArray(options.tags) ? options.tags : (options.tags.any ?? []));
      const all = Array.isArray(options.tags) ? [] : normaliseTags(options.tags.all ?? []);
      if (any.length > 0 || all.length > 0) filter.tags = { ...(any.length > 0 ? { any } : {}), ...(all.length > 0 ? { all } : {}) };
    }
    let after = options.after;
    let before = options.before;
    if (options.time !== undefined) {
      const window = parseTimeWindow(options.time, { now: new Date(this.now()) });
      if (window.after && (!after || window.after > after)) after = window.after;
      if (window.before && (!before || window.before < before)) before = window.before;
    }
    if (after && before && after >= before) {
      throw new ValidationError([{ field: 'options.after', message: `(${after.toISOString()}) is not before options.before (${before.toISOString()}): the window is empty` }]);
    }
    if (after) filter.after = after;
    if (before) filter.before = before;
    if (options.where !== undefined) filter.where = parseWhere(options.where, 'options.where');
    if (options.includeSuperseded) filter.includeSuperseded = true;
    return filter;
  }

  private async embedMany(texts: string[]): Promise<Float32Array[]> {
    const batchSize = this.embedder.maxBatchSize && this.embedder.maxBatchSize > 0 ? this.embedder.maxBatchSize : texts.length || 1;
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      let output: Float32Array[] | number[][];
      try {
        output = await this.embedder.embed(batch);
      } catch (error) {
        if (EngramError.isInstance(error)) throw error;
        throw new EmbedderError(`Embedder ${this.embedder.id} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      }
      if (!Array.isArray(output) || output.length !== batch.length) {
        throw new EmbedderError(`Embedder ${this.embedder.id} returned ${Array.isArray(output) ? output.length : 'no'} vectors for ${batch.length} texts`);
      }
      for (const raw of output) {
        const vector = raw instanceof Float32Array ? raw : Float32Array.from(raw);
        if (vector.length !== this.embedder.dimensions) {
          throw new EmbedderError(
            `Embedder ${this.embedder.id} returned a ${vector.length}-dimensional vector but declares ${this.embedder.dimensions} dimensions`,
          );
        }
        for (const value of vector) {
          if (!Number.isFinite(value)) throw new EmbedderError(`Embedder ${this.embedder.id} returned a vector with a non-finite value`);
        }
        vectors.push(vector);
      }
    }
    return vectors;
  }

  private async embedQuery(query: string): Promise<Float32Array> {
    const cached = this.queryCache.get(query);
    if (cached) {
      // Refresh its place in the LRU order.
      this.queryCache.delete(query);
      this.queryCache.set(query, cached);
      return cached;
    }
    const [vector] = await this.embedMany([query]);
    this.queryCache.set(query, vector as Float32Array);
    if (this.queryCache.size > QUERY_CACHE_SIZE) this.queryCache.delete(this.queryCache.keys().next().value as string);
    return vector as Float32Array;
  }

  /** Queues access statistics; they are written together shortly after, off the search path. */
  private recordAccess(ids: string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.pendingAccess.add(id);
    this.accessFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeAccess());
  }

  private async writeAccess(): Promise<void> {
    const ids = [...this.pendingAccess];
    this.pendingAccess = new Set();
    this.accessFlush = undefined;
    if (ids.length === 0 || this.closed) return;
    try {
      await this.store.recordAccess(ids, new Date(this.now()));
    } catch (error) {
      this.warn(`could not record access statistics: ${(error as Error).message}`);
    }
  }

  private async flushAccess(): Promise<void> {
    if (this.accessFlush) await this.accessFlush;
  }

  private warn(message: string): void {
    this.log(message);
    this.emitter.emit('warning', { message });
  }

  private warnOnce(key: string, message: string): void {
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    this.warn(message);
  }
}

function compactScope(scope: Scope | undefined): Scope {
  const result: Scope = {};
  if (scope?.userId !== undefined) result.userId = scope.userId;
  if (scope?.agentId !== undefined) result.agentId = scope.agentId;
  if (scope?.runId !== undefined) result.runId = scope.runId;
  return result;
}
