import { EventEmitter } from 'eventemitter3';
import type { Embedder } from './contracts/embedder.js';
import type { MemoryStore, StoreWrite, StoreWriteResult, WriteStatus } from './contracts/memory-store.js';
import type { EmbedderInfo, HistoryEntry, MemoryFilter, MemoryRecord, Relation, Scope } from './contracts/model.js';
import type { VectorIndex } from './contracts/vector-index.js';
import type { MemoryEventName, MemoryEvents } from './events/events.js';
import { matchesFilter, scopeKey } from './filter/filter.js';
import { parseTimeWindow } from './filter/time-window.js';
import { parseWhere } from './filter/where.js';
import { type LinkSuggestion, suggestLinks } from './graph/link-suggestions.js';
import { type Direction, type RelationTypeOptions, RelationTypes } from './graph/relation-types.js';
import { expand, shortestPath } from './graph/traversal.js';
import { ConflictError, EmbedderError, EmbedderMismatchError, EngramError, NotFoundError, ValidationError } from './model/errors.js';
import { uuidv7 } from './model/ids.js';
import { Ontology, type OntologyOptions } from './model/ontology.js';
import {
  type AddInput,
  addInputSchema,
  type ContextOptions,
  type CountFilter,
  contextOptionsSchema,
  countFilterSchema,
  DEFAULT_MAX_CONTENT_BYTES,
  type LinkOptions,
  type ListOptions,
  linkOptionsSchema,
  listOptionsSchema,
  type NeighborsOptions,
  neighborsOptionsSchema,
  type ParsedAddInput,
  type PathOptions,
  pathOptionsSchema,
  type RelationsOptions,
  relationsOptionsSchema,
  type SearchOptions,
  type SubgraphOptions,
  searchOptionsSchema,
  subgraphOptionsSchema,
  type UpdatePatch,
  updatePatchSchema,
  validate,
} from './model/schema.js';
import { findDateCues } from './retrieval/date-cues.js';
import {
  collectCandidates,
  defaultVectorWeight,
  type Explanation,
  type ResolvedRetrievalOptions,
  type RetrievalOptions,
  resolveRetrievalOptions,
  scoreCandidate,
} from './retrieval/fusion.js';
import { contentHash, estimateTokens, normaliseTags } from './text/text.js';

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

/**
 * Chooses the embedder once the store is open, knowing which one (if any) the store was built
 * with: how the `engram` package keeps a store's embedder on reopen.
 */
export type EmbedderFactory = (context: { stored: EmbedderInfo | null }) => Embedder | Promise<Embedder>;

export interface MemoryOptions {
  store: MemoryStore;
  /** An embedder, or a factory called on first use with the embedder the store records. */
  embedder: Embedder | EmbedderFactory;
  /** A separate vector index (e.g. Qdrant). Default: the store's own, when it has one. */
  vectors?: VectorIndex;
  /** Extra types/subtypes, and `strict` to reject unknown types. */
  ontology?: OntologyOptions;
  /** Extra relationship types and their symmetry. */
  relations?: RelationTypeOptions;
  /**
   * Opt-in: after each new memory, link the `suggestLinks` suggestions whose confidence reaches
   * `threshold` (default 0.8), at most `limit` (default 3), marked `inferred: true`.
   */
  autoLink?: { threshold?: number; limit?: number } | boolean;
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

export interface Neighbor {
  memory: MemoryRecord;
  /** Hops from the start (1 = directly linked). */
  distance: number;
  /** The edge that reached this memory first. */
  via: Relation;
}

export interface Subgraph {
  nodes: MemoryRecord[];
  /** Every edge between two nodes of the subgraph. */
  edges: Relation[];
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
  readonly relationTypes: RelationTypes;
  private readonly autoLink: { threshold: number; limit: number } | undefined;
  readonly store: MemoryStore;
  private resolvedEmbedder: Embedder | undefined;
  private readonly embedderFactory: EmbedderFactory | undefined;
  private readonly externalVectors: VectorIndex | undefined;
  private vectors: VectorIndex | undefined;
  private readonly emitter = new EventEmitter<MemoryEvents>();
  private readonly retrieval: ResolvedRetrievalOptions;
  private fusion: ResolvedRetrievalOptions | undefined;
  private readonly dedup: Required<DedupOptions>;
  private readonly maxContentBytes: number;
  private readonly log: (message: string) => void;
  private readonly now: () => number;
  private readyPromise: Promise<void> | undefined;
  private closed = false;
  private readonly queryCache = new Map<string, Float32Array>();
  private pendingAccess: string[] = [];
  private accessFlush: Promise<void> | undefined;
  private readonly warnedOnce = new Set<string>();

  constructor(options: MemoryOptions) {
    if (!options || typeof options !== 'object') {
      throw new ValidationError([
        { field: 'options', message: 'pass { store, embedder } (or use `new Memory()` from the engram package for defaults)' },
      ]);
    }
    if (!options.store || typeof options.store.write !== 'function') {
      throw new ValidationError([
        { field: 'store', message: 'is required: a MemoryStore such as sqliteStore({ path }) or inMemoryStore()' },
      ]);
    }
    this.store = options.store;
    if (typeof options.embedder === 'function') this.embedderFactory = options.embedder;
    else this.resolvedEmbedder = checkEmbedder(options.embedder);
    this.externalVectors = options.vectors;
    this.ontology = new Ontology(options.ontology);
    this.relationTypes = new RelationTypes(options.relations);
    const autoLink = options.autoLink === true ? {} : options.autoLink || undefined;
    this.autoLink = autoLink ? { threshold: autoLink.threshold ?? 0.8, limit: autoLink.limit ?? 3 } : undefined;
    if (this.autoLink && !(this.autoLink.threshold > 0 && this.autoLink.threshold <= 1)) {
      throw new ValidationError([{ field: 'autoLink.threshold', message: 'must be in (0, 1]' }]);
    }
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

  /** The embedder in use. With a factory, available once `ready()` has resolved. */
  get embedder(): Embedder {
    if (!this.resolvedEmbedder) {
      throw new EngramError('VALIDATION_ERROR', 'The embedder is chosen when the store opens: await memory.ready() first.');
    }
    return this.resolvedEmbedder;
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
    const stored = await this.store.getEmbedder();
    if (this.embedderFactory) this.resolvedEmbedder = checkEmbedder(await this.embedderFactory({ stored }));
    const supplied = { id: this.embedder.id, dimensions: this.embedder.dimensions };
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
      for (const existing of await this.store.findByHashes(group.scope, group.hashes))
        existingByKey.set(`${key}|${existing.contentHash}`, existing);
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
          result.status === 'duplicate'
            ? []
            : [{ id: result.record.id, vector: vectors[position] as Float32Array, payload: result.record }],
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
      if (this.autoLink) {
        for (const result of written) if (result.status === 'created') await this.linkInferred(result.record);
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
        {
          field: field('content'),
          message: `is ${bytes} bytes, over the ${this.maxContentBytes}-byte limit: split it, or raise maxContentBytes`,
        },
      ]);
    }
    const context = parsed.context?.trim() ? parsed.context : undefined;
    if (context !== undefined && Buffer.byteLength(context, 'utf8') > this.maxContentBytes) {
      throw new ValidationError([
        { field: field('context'), message: `is over the ${this.maxContentBytes}-byte limit: keep the nearest text only` },
      ]);
    }
    const warnings: string[] = [];
    const resolved = this.ontology.resolve(parsed.type, field('type'));
    if (resolved.warning) warnings.push(resolved.warning);
    const now = new Date(this.now());
    const record: MemoryRecord = {
      id: uuidv7(now.getTime()),
      content,
      ...(context !== undefined ? { context } : {}),
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
    return this.runSearch(query, options, true);
  }

  private async runSearch(query: string, options: SearchOptions, recordAccess: boolean): Promise<SearchHit[]> {
    const started = performance.now();
    if (typeof query !== 'string') throw new ValidationError([{ field: 'query', message: 'must be a string' }]);
    if (query.length > MAX_QUERY_CHARS)
      throw new ValidationError([{ field: 'query', message: `is longer than ${MAX_QUERY_CHARS} characters` }]);
    const parsed = validate(searchOptionsSchema, options, 'options');
    const filter = this.buildFilter(parsed);
    await this.ready();
    const limit = parsed.limit ?? 10;
    const requested: Mode = parsed.mode ?? 'hybrid';
    const useLexical = requested !== 'vector' && this.store.capabilities.lexical === 'bm25' && this.store.lexicalSearch !== undefined;
    const useVector = requested !== 'lexical' && this.vectors !== undefined;
    if (requested === 'vector' && !useVector)
      throw new ValidationError([{ field: 'options.mode', message: 'is "vector" but this Memory has no vector index' }]);
    if (requested === 'lexical' && !useLexical)
      throw new ValidationError([
        { field: 'options.mode', message: `is "lexical" but the ${this.store.name} store has no lexical search` },
      ]);
    if (query.trim().length === 0) return [];

    const candidateCount = this.retrieval.candidates ?? Math.max(limit * 4, 40);
    const [lexical, vector] = await Promise.all([
      useLexical
        ? (this.store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>).call(this.store, query, filter, candidateCount)
        : [],
      useVector ? this.embedQuery(query).then((embedding) => (this.vectors as VectorIndex).search(embedding, candidateCount, filter)) : [],
    ]);
    const candidates = collectCandidates(lexical, vector);
    const records = await this.store.get([...candidates.keys()]);
    const now = this.now();
    const lists = { lexical: useLexical, vector: useVector };
    const fusion = this.fusionOptions();
    const dateCues = fusion.dateWeight > 0 ? findDateCues(query) : [];
    const hits: SearchHit[] = [];
    for (const record of records) {
      const candidate = candidates.get(record.id);
      // A separate vector index may hold a stale payload: the store's record is the truth.
      if (!candidate || !matchesFilter(record, filter)) continue;
      const explanation = scoreCandidate(candidate, record, lists, fusion, now, dateCues);
      if (parsed.minScore !== undefined && explanation.score < parsed.minScore) continue;
      hits.push(parsed.explain ? { memory: record, score: explanation.score, explanation } : { memory: record, score: explanation.score });
    }
    hits.sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? 1 : -1));
    if (parsed.expand) await this.expandHits(hits, filter, parsed.expand, parsed.explain ?? false, parsed.minScore);
    const top = hits.slice(0, limit);
    if (recordAccess) this.recordAccess(top.map((hit) => hit.memory.id));
    const mode: Mode = useLexical && useVector ? 'hybrid' : useVector ? 'vector' : 'lexical';
    this.emitter.emit('search', { query, mode, hits: top.length, durationMs: performance.now() - started });
    return top;
  }

  /** The retrieval options with the vector weight settled once the embedder is known. */
  private fusionOptions(): ResolvedRetrievalOptions {
    if (this.retrieval.vectorWeight !== undefined) return this.retrieval;
    this.fusion ??= { ...this.retrieval, vectorWeight: defaultVectorWeight(this.resolvedEmbedder?.id) };
    return this.fusion;
  }

  /** Adds graph neighbours of the strongest hits, scored seed × decay^distance × edge weight; keeps the filter. */
  private async expandHits(
    hits: SearchHit[],
    filter: MemoryFilter,
    options: { depth?: number | undefined; types?: string[] | undefined; seeds?: number | undefined; decay?: number | undefined },
    explain: boolean,
    minScore: number | undefined,
  ): Promise<void> {
    const types = options.types?.map((type, index) => this.relationTypes.check(type, `options.expand.types.${index}`));
    const decay = options.decay ?? 0.5;
    const present = new Set(hits.map((hit) => hit.memory.id));
    const added: SearchHit[] = [];
    for (const seed of hits.slice(0, options.seeds ?? 3)) {
      const reached = await expand(this.store, this.relationTypes, [seed.memory.id], {
        direction: 'both',
        ...(types ? { types } : {}),
        depth: options.depth ?? 1,
        includeSuperseded: filter.includeSuperseded ?? false,
        maxNodes: 100,
      });
      for (const { memory, distance, via } of reached) {
        if (present.has(memory.id) || !matchesFilter(memory, filter)) continue;
        const factor = decay ** distance * via.weight;
        const score = seed.score * factor;
        if (minScore !== undefined && score < minScore) continue;
        present.add(memory.id);
        const hit: SearchHit = { memory, score };
        if (explain) {
          hit.explanation = {
            relevance: 0,
            recency: { ageDays: 0, value: 0, contribution: 0 },
            importance: { value: memory.importance, contribution: 0 },
            expansion: { seedId: seed.memory.id, seedScore: seed.score, via, distance, factor },
            score,
          };
        }
        added.push(hit);
      }
    }
    hits.push(...added);
    hits.sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? 1 : -1));
  }

  // ---------------------------------------------------------------- graph

  private async liveMemory(id: unknown, field: string): Promise<MemoryRecord> {
    if (typeof id !== 'string' || id.trim().length === 0) throw new ValidationError([{ field, message: 'must be a memory id' }]);
    const [record] = await this.store.get([id]);
    if (!record) throw new NotFoundError('Memory', id);
    return record;
  }

  /** Creates (or updates the weight/confidence/metadata of) the edge source —type→ target. */
  async link(sourceId: string, targetId: string, type: string, options: LinkOptions = {}): Promise<Relation> {
    return this.writeLink(sourceId, targetId, type, options, false);
  }

  private async writeLink(sourceId: string, targetId: string, type: string, options: LinkOptions, inferred: boolean): Promise<Relation> {
    const relationType = this.relationTypes.check(type);
    const parsed = validate(linkOptionsSchema, options, 'options');
    await this.ready();
    if (sourceId === targetId)
      throw new ValidationError([{ field: 'targetId', message: 'is the same memory as sourceId: self-loops are not allowed' }]);
    await this.liveMemory(sourceId, 'sourceId');
    await this.liveMemory(targetId, 'targetId');
    const [source, target] = this.relationTypes.orient(sourceId, targetId, relationType);
    const now = new Date(this.now());
    const { relation, created } = await this.store.upsertRelation({
      sourceId: source,
      targetId: target,
      type: relationType,
      weight: parsed.weight ?? 1,
      confidence: parsed.confidence ?? 1,
      metadata: parsed.metadata ?? {},
      inferred,
      createdAt: now,
      updatedAt: now,
    });
    this.emitter.emit('relation:added', { relation, created });
    return relation;
  }

  /** Removes the edge(s) between two memories: of one type, or of every type. Returns how many. */
  async unlink(sourceId: string, targetId: string, type?: string): Promise<number> {
    if (typeof sourceId !== 'string' || typeof targetId !== 'string') {
      throw new ValidationError([{ field: typeof sourceId !== 'string' ? 'sourceId' : 'targetId', message: 'must be a memory id' }]);
    }
    const relationType = type === undefined ? undefined : this.relationTypes.check(type);
    await this.ready();
    const removed: Relation[] = [];
    if (relationType !== undefined) {
      const [source, target] = this.relationTypes.orient(sourceId, targetId, relationType);
      removed.push(...(await this.store.removeRelations(source, target, relationType)));
    } else {
      removed.push(...(await this.store.removeRelations(sourceId, targetId)));
      // Symmetric edges stored the other way round belong to this pair too.
      for (const symmetric of this.relationTypes.names.filter((name) => this.relationTypes.isSymmetric(name))) {
        removed.push(...(await this.store.removeRelations(targetId, sourceId, symmetric)));
      }
    }
    for (const relation of removed) this.emitter.emit('relation:removed', { relation });
    return removed.length;
  }

  /** The raw edges of a memory (direction `both` by default). Edges to deleted memories are never returned. */
  async relations(id: string, options: RelationsOptions = {}): Promise<Relation[]> {
    const parsed = validate(relationsOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => this.relationTypes.check(type, `options.types.${index}`));
    await this.ready();
    await this.liveMemory(id, 'id');
    const direction: Direction = parsed.direction ?? 'both';
    const edges = (await this.store.relationsOf([id], { direction: 'both', ...(types ? { types } : {}) })).filter(
      (edge) => this.relationTypes.step(edge, id, direction) !== undefined,
    );
    const others = await this.store.get([...new Set(edges.map((edge) => (edge.sourceId === id ? edge.targetId : edge.sourceId)))]);
    const live = new Set(others.map((record) => record.id));
    return edges.filter((edge) => live.has(edge.sourceId === id ? edge.targetId : edge.sourceId));
  }

  /** Memories linked to this one, up to `depth` hops, nearest first, each once. */
  async neighbors(id: string, options: NeighborsOptions = {}): Promise<Neighbor[]> {
    const parsed = validate(neighborsOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => this.relationTypes.check(type, `options.types.${index}`));
    await this.ready();
    await this.liveMemory(id, 'id');
    const reached = await expand(this.store, this.relationTypes, [id], {
      direction: parsed.direction ?? 'both',
      ...(types ? { types } : {}),
      depth: parsed.depth ?? 1,
      includeSuperseded: parsed.includeSuperseded ?? false,
      maxNodes: parsed.limit ?? 10_000,
    });
    return reached.map(({ memory, distance, via }) => ({ memory, distance, via }));
  }

  /** The shortest chain of memories from one to another (following edges `direction`, default 'out'), or null. */
  async path(fromId: string, toId: string, options: PathOptions = {}): Promise<MemoryRecord[] | null> {
    const parsed = validate(pathOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => this.relationTypes.check(type, `options.types.${index}`));
    await this.ready();
    const from = await this.liveMemory(fromId, 'fromId');
    const to = await this.liveMemory(toId, 'toId');
    const includeSuperseded = parsed.includeSuperseded ?? false;
    if (!includeSuperseded && (from.supersededBy !== null || to.supersededBy !== null)) return null;
    const ids = await shortestPath(this.store, this.relationTypes, fromId, toId, {
      direction: parsed.direction ?? 'out',
      ...(types ? { types } : {}),
      maxDepth: parsed.maxDepth ?? 5,
      includeSuperseded,
    });
    if (!ids) return null;
    const records = new Map((await this.store.get(ids)).map((record) => [record.id, record]));
    const path = ids.map((pathId) => records.get(pathId));
    return path.every((record) => record !== undefined) ? (path as MemoryRecord[]) : null;
  }

  /** The memories within `radius` hops (either direction) and every edge among them: ready for D3 and friends. */
  async subgraph(id: string, options: SubgraphOptions = {}): Promise<Subgraph> {
    const parsed = validate(subgraphOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => this.relationTypes.check(type, `options.types.${index}`));
    await this.ready();
    const center = await this.liveMemory(id, 'id');
    const maxNodes = parsed.maxNodes ?? 500;
    const reached =
      maxNodes > 1
        ? await expand(this.store, this.relationTypes, [id], {
            direction: 'both',
            ...(types ? { types } : {}),
            depth: parsed.radius ?? 2,
            includeSuperseded: parsed.includeSuperseded ?? false,
            maxNodes: maxNodes - 1,
          })
        : [];
    const nodes = [center, ...reached.map((item) => item.memory)];
    const nodeIds = new Set(nodes.map((node) => node.id));
    const edges = (await this.store.relationsOf([...nodeIds], { direction: 'out', ...(types ? { types } : {}) })).filter((edge) =>
      nodeIds.has(edge.targetId),
    );
    return { nodes, edges };
  }

  /**
   * Settles a contradiction: the loser is superseded by the winner (`supersededBy`, `validTo` =
   * now), a `contradicts` edge is written if there is none, and history records why.
   */
  async resolve(
    winnerId: string,
    loserId: string,
    options: { reason?: string } = {},
  ): Promise<{ winner: MemoryRecord; loser: MemoryRecord }> {
    if (options.reason !== undefined && typeof options.reason !== 'string') {
      throw new ValidationError([{ field: 'options.reason', message: 'must be a string' }]);
    }
    await this.ready();
    if (winnerId === loserId) throw new ValidationError([{ field: 'loserId', message: 'is the same memory as winnerId' }]);
    const winner = await this.liveMemory(winnerId, 'winnerId');
    const loser = await this.liveMemory(loserId, 'loserId');
    if (winner.supersededBy !== null) {
      throw new ConflictError(`Memory ${winnerId} is itself superseded by ${winner.supersededBy}: resolve in favour of the current one.`);
    }
    if (loser.supersededBy === winnerId) return { winner, loser };
    if (loser.supersededBy !== null) {
      throw new ConflictError(`Memory ${loserId} is already superseded by ${loser.supersededBy}.`);
    }
    const [source, target] = this.relationTypes.orient(winnerId, loserId, 'contradicts');
    const existing = await this.store.relationsOf([source], { direction: 'out', types: ['contradicts'] });
    if (!existing.some((edge) => edge.targetId === target)) await this.writeLink(winnerId, loserId, 'contradicts', {}, false);
    const now = new Date(this.now());
    const updated = await this.store.update(loserId, { supersededBy: winnerId, validTo: now, updatedAt: now }, undefined, {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    });
    if (!updated) throw new NotFoundError('Memory', loserId);
    await this.refreshExternalPayload(updated);
    this.queryCache.clear();
    this.emitter.emit('memory:superseded', { winner, loser: updated, reason: options.reason ?? null });
    return { winner, loser: updated };
  }

  /** Every change to a memory, oldest first: created, updated (old → new), superseded, deleted. */
  async history(id: string): Promise<HistoryEntry[]> {
    const memoryId = this.validateId(id);
    await this.ready();
    const entries = await this.store.history(memoryId);
    if (entries.length === 0 && (await this.store.get([memoryId])).length === 0) throw new NotFoundError('Memory', memoryId);
    return entries;
  }

  /**
   * A separate vector index (Qdrant…) keeps a payload copy of the filterable fields: after a change
   * that does not go through `update` (a supersession), write the payload again with the vector.
   */
  private async refreshExternalPayload(record: MemoryRecord): Promise<void> {
    if (!this.vectors || this.vectors === this.store.vectors) return;
    const [vector] = await this.embedMany([record.content]);
    if (vector) await this.vectors.upsert([{ id: record.id, vector, payload: record }]);
  }

  /** Links this memory probably has, with a guessed type, a confidence and reasons. Writes nothing. */
  async suggestLinks(id: string, options: { limit?: number } = {}): Promise<LinkSuggestion[]> {
    const limit = options.limit ?? 5;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new ValidationError([{ field: 'options.limit', message: 'must be an integer from 1 to 100' }]);
    await this.ready();
    const memory = await this.liveMemory(id, 'id');
    return this.suggestFor(memory, limit);
  }

  private async suggestFor(memory: MemoryRecord, limit: number): Promise<LinkSuggestion[]> {
    const hits = await this.runSearch(
      memory.content.slice(0, 10_000),
      { scope: memory.scope, limit: Math.max(limit * 4, 20), explain: true },
      false,
    );
    const linked = new Set(
      (await this.store.relationsOf([memory.id], { direction: 'both' })).map((edge) =>
        edge.sourceId === memory.id ? edge.targetId : edge.sourceId,
      ),
    );
    const candidates = hits.filter((hit) => hit.memory.id !== memory.id && !linked.has(hit.memory.id));
    return suggestLinks(memory, candidates, this.relationTypes).slice(0, limit);
  }

  private async linkInferred(memory: MemoryRecord): Promise<void> {
    const settings = this.autoLink;
    if (!settings) return;
    const suggestions = await this.suggestFor(memory, settings.limit);
    for (const suggestion of suggestions) {
      if (suggestion.confidence < settings.threshold) continue;
      await this.writeLink(
        suggestion.sourceId,
        suggestion.targetId,
        suggestion.type,
        { confidence: suggestion.confidence, metadata: { reasons: suggestion.reasons } },
        true,
      );
    }
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
    asOf?: Date | undefined;
  }): MemoryFilter {
    const filter: MemoryFilter = {};
    const scope = compactScope(options.scope);
    if (Object.keys(scope).length > 0) filter.scope = scope;
    if (options.conversationId !== undefined) filter.conversationId = options.conversationId;
    if (options.types !== undefined && options.types.length > 0)
      Object.assign(filter, this.ontology.resolveFilter(options.types, 'options.types'));
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
      throw new ValidationError([
        {
          field: 'options.after',
          message: `(${after.toISOString()}) is not before options.before (${before.toISOString()}): the window is empty`,
        },
      ]);
    }
    if (after) filter.after = after;
    if (before) filter.before = before;
    if (options.where !== undefined) filter.where = parseWhere(options.where, 'options.where');
    if (options.includeSuperseded) filter.includeSuperseded = true;
    if (options.asOf) filter.asOf = options.asOf;
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
        throw new EmbedderError(
          `Embedder ${this.embedder.id} returned ${Array.isArray(output) ? output.length : 'no'} vectors for ${batch.length} texts`,
        );
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
    this.pendingAccess.push(...ids);
    this.accessFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeAccess());
  }

  private async writeAccess(): Promise<void> {
    const ids = this.pendingAccess;
    this.pendingAccess = [];
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

function checkEmbedder(embedder: Embedder | undefined): Embedder {
  if (
    !embedder ||
    typeof embedder.embed !== 'function' ||
    !Number.isInteger(embedder.dimensions) ||
    embedder.dimensions <= 0 ||
    !embedder.id
  ) {
    throw new ValidationError([
      {
        field: 'embedder',
        message: 'is required: an object { specificationVersion, id, dimensions, embed(texts) } such as hashEmbedder()',
      },
    ]);
  }
  return embedder;
}

function compactScope(scope: Scope | undefined): Scope {
  const result: Scope = {};
  if (scope?.userId !== undefined) result.userId = scope.userId;
  if (scope?.agentId !== undefined) result.agentId = scope.agentId;
  if (scope?.runId !== undefined) result.runId = scope.runId;
  return result;
}
