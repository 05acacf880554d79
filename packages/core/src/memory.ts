import { type ConsolidateOptions, type ConsolidationOptions, resolveConsolidationOptions } from './consolidation/consolidation-options.js';
import { Consolidator } from './consolidation/consolidator.js';
import type { ConsolidationReport } from './consolidation/report.js';
import type { Embedder } from './contracts/embedder.js';
import type { LanguageModel } from './contracts/language-model.js';
import type {
  BackupOptions,
  BackupResult,
  MemoryStore,
  StoreOperation,
  StoreOperationResult,
  StoreStatistics,
} from './contracts/memory-store.js';
import type { HistoryEntry, MemoryRecord, Relation, Scope } from './contracts/model.js';
import type { VectorIndex } from './contracts/vector-index.js';
import {
  ConversationContext,
  type ConversationContextOptions,
  type ReindexContextResult,
  reindexContextSchema,
  resolveConversationContextOptions,
} from './conversation/conversation-context.js';
import { type EmbedderFactory, Embedding } from './embedding/embedding.js';
import { Encryption, type EncryptionOptions } from './encryption/encryption.js';
import { isEnvelope } from './encryption/envelope.js';
import { Eraser, type ForgetInput, type ForgetResult, type RetentionOptions, resolveRetentionOptions } from './erasure/eraser.js';
import { EventHub, type Logger } from './events/event-hub.js';
import type { MemoryEventName, MemoryEvents } from './events/events.js';
import {
  type ConversationMessage,
  type InferenceHost,
  type InferenceOptions,
  type InferOptions,
  type InferResult,
  inferMemories,
  type NewMemory,
  type PlanChanges,
  type PlanOutcome,
  resolveInferenceOptions,
} from './extraction/index.js';
import { scopeKey } from './filter/filter.js';
import { parseWhere } from './filter/where.js';
import { Graph, type Neighbor, type Subgraph } from './graph/graph.js';
import { type AutoLinkOptions, LinkSuggester, type LinkSuggestion, resolveAutoLink } from './graph/link-suggestions.js';
import { type RelationTypeOptions, RelationTypes } from './graph/relation-types.js';
import { Resolver } from './graph/resolve.js';
import {
  type DocumentWrite,
  type DocumentWritten,
  Ingester,
  type IngestOptions,
  type IngestReport,
  type IngestSource,
  type PdfReader,
} from './ingestion/ingester.js';
import { EmbedderMismatchError, EngramError, ValidationError } from './model/errors.js';
import { type MetadataLimits, resolveMetadataLimits } from './model/input-guards.js';
import { Ontology, type OntologyOptions } from './model/ontology.js';
import {
  type AddInput,
  type ContextOptions,
  type CountFilter,
  DEFAULT_MAX_CONTENT_BYTES,
  type LinkOptions,
  type ListOptions,
  type NeighborsOptions,
  type PathOptions,
  type RelationsOptions,
  type SearchOptions,
  type SubgraphOptions,
  type UpdatePatch,
  validate,
} from './model/schema.js';
import { compactScope } from './model/scope.js';
import { AccessRecorder, type AccessStatisticsOptions } from './retrieval/access-recorder.js';
import { type ContextResult, packContext } from './retrieval/context.js';
import { type ResolvedRetrievalOptions, type RetrievalOptions, resolveRetrievalOptions } from './retrieval/fusion.js';
import { type ListResult, Reader } from './retrieval/reader.js';
import { Searcher, type SearchHit } from './retrieval/searcher.js';
import { applyOperations } from './stores/store-operations.js';
import { Sync } from './sync/sync.js';
import { type ResolvedSyncOptions, resolveSyncOptions, type SyncOptions } from './sync/sync-options.js';
import { type DedupOptions, resolveDedupOptions } from './write/near-duplicates.js';
import { type AddResult, type PreparedUpdate, Writer } from './write/writer.js';

export type { ConsolidationReport } from './consolidation/report.js';
export type { ConversationContextOptions, ReindexContextResult } from './conversation/conversation-context.js';
export type { EmbedderFactory } from './embedding/embedding.js';
export type { ForgetInput, ForgetResult, RetentionOptions } from './erasure/eraser.js';
export type { Neighbor, Subgraph } from './graph/graph.js';
export type { ContextResult } from './retrieval/context.js';
export type { ListResult } from './retrieval/reader.js';
export type { SearchHit } from './retrieval/searcher.js';
export type { DedupOptions } from './write/near-duplicates.js';
export type { AddResult } from './write/writer.js';

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
  autoLink?: AutoLinkOptions;
  dedup?: DedupOptions;
  retrieval?: RetrievalOptions;
  /** A language model for `add(messages, { infer: true })` (see @engram/models). Nothing else needs one. */
  model?: LanguageModel;
  /** Settings of fact extraction and reconciliation (extraction/). */
  inference?: InferenceOptions;
  /**
   * Conversation-aware lexical context: a new memory with a `conversationId` and no `context` is
   * indexed with the preceding turns of its conversation. Default `{ turns: 2 }`; `false` turns it off.
   */
  conversationContext?: ConversationContextOptions | false;
  /** Document ingestion: `pdf` reads PDF bytes (the engram package supplies one built on unpdf). */
  ingestion?: { pdf?: PdfReader };
  /** How `consolidate()` scores, forgets (and archives), compresses and links. See docs/consolidation.md. */
  consolidation?: ConsolidationOptions;
  /** Largest content accepted, in UTF-8 bytes. Default 1,000,000. */
  maxContentBytes?: number;
  /** Limits on `metadata` (of memories and links): JSON size, key count, nesting depth. */
  metadataLimits?: MetadataLimits;
  /** Keys for sensitive memories (`add({ sensitive: true })`): AES-256-GCM at rest. See docs/data-safety.md. */
  encryption?: EncryptionOptions;
  /**
   * Erase soft-deleted memories for good after `deletedDays` (checked on open and by `purgeDeleted`);
   * keep sync's erased ids `erasureLogDays` (default 90).
   */
  retention?: RetentionOptions;
  /**
   * Local-first sync with an Engram server (`@engram/rest`): reads and writes stay local, local
   * writes are pushed and the server's changes pulled in the background. See docs/sync.md.
   */
  sync?: SyncOptions;
  /**
   * How searches' access statistics (count, last accessed) are written: gathered for
   * `flushIntervalMs` (default 1,000) and written in one batch, off the search path. Reads in this
   * process see them at once; other processes once written. `close()` writes what is pending.
   */
  accessStatistics?: AccessStatisticsOptions;
  /** Where warnings go besides the `warning` event. Default: console.warn. `false` silences them. */
  logger?: Logger;
  /** The clock (tests). Default Date.now. */
  now?: () => number;
}

/**
 * Long-term memory for an agent: typed memories, hybrid retrieval, events.
 * The constructor does no I/O; the store opens on first use.
 *
 * A facade: it opens the store and chooses the embedder and vector index, then hands each call to
 * the part that owns it (write/, retrieval/, graph/), each given only what it needs.
 */
export class Memory {
  readonly ontology: Ontology;
  readonly relationTypes: RelationTypes;
  readonly store: MemoryStore;
  private readonly embedding: Embedding;
  private readonly externalVectors: VectorIndex | undefined;
  private readonly events: EventHub;
  private readonly access: AccessRecorder;
  private readonly writer: Writer;
  private readonly reader: Reader;
  private readonly searcher: Searcher;
  private readonly graph: Graph;
  private readonly resolver: Resolver;
  private readonly linkSuggester: LinkSuggester;
  private readonly conversationContext: ConversationContext;
  private readonly eraser: Eraser;
  private readonly encryption: Encryption;
  private readonly consolidator: Consolidator;
  private readonly ingester: Ingester;
  /**
   * Sync: `status()`, `now()` and the `sync:*` events on a replica (`new Memory({ sync })`);
   * `changes()` / `receive()` serve replicas (the REST server's /api/sync routes).
   */
  readonly sync: Sync;
  private openPromise: Promise<VectorIndex | undefined> | undefined;
  private closed = false;
  /** The language model `add(messages, { infer: true })` uses, if any. */
  readonly model: LanguageModel | undefined;
  private readonly inference: InferenceOptions;
  private readonly now: () => number;

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
    const store = options.store;
    this.store = store;
    this.embedding = new Embedding(options.embedder);
    this.externalVectors = options.vectors;
    this.ontology = new Ontology(options.ontology);
    this.relationTypes = new RelationTypes(options.relations);
    const autoLink = resolveAutoLink(options.autoLink);
    let retrieval: ResolvedRetrievalOptions;
    try {
      retrieval = resolveRetrievalOptions(options.retrieval);
    } catch (error) {
      throw new ValidationError([{ field: 'retrieval', message: (error as Error).message }]);
    }
    const dedup = resolveDedupOptions(options.dedup);
    let conversationContextOptions: ReturnType<typeof resolveConversationContextOptions>;
    try {
      conversationContextOptions = resolveConversationContextOptions(options.conversationContext);
    } catch (error) {
      throw new ValidationError([{ field: 'conversationContext', message: (error as Error).message }]);
    }
    // Pattern summaries use the Memory's language model unless consolidation names its own.
    const consolidation = resolveConsolidationOptions({
      ...options.consolidation,
      ...((options.consolidation?.model ?? options.model) ? { model: options.consolidation?.model ?? options.model } : {}),
    });
    const maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
    const metadataLimits = resolveMetadataLimits(options.metadataLimits);
    const retention = resolveRetentionOptions(options.retention);
    const encryption = new Encryption(options.encryption);
    this.encryption = encryption;
    const reveal = (record: MemoryRecord) => encryption.reveal(record);
    this.events = new EventHub(options.logger);
    const now = options.now ?? Date.now;
    this.now = now;
    if (options.model !== undefined && (typeof options.model !== 'object' || typeof options.model?.complete !== 'function')) {
      throw new ValidationError([
        { field: 'model', message: 'must be a LanguageModel { specificationVersion, id, complete() }, e.g. openaiCompatibleModel()' },
      ]);
    }
    this.model = options.model;
    this.inference = resolveInferenceOptions(options.inference);
    let syncOptions: ResolvedSyncOptions | undefined;
    if (options.sync !== undefined) {
      syncOptions = resolveSyncOptions(options.sync);
      if (!store.changesSince || !store.getMeta || !store.setMeta) {
        throw new ValidationError([
          {
            field: 'sync',
            message: `needs a store with a change log (changesSince, getMeta, setMeta); the ${store.name} store has none — use sqliteStore({ path })`,
          },
        ]);
      }
    }

    const open = () => this.open();
    const { embedding, events, ontology, relationTypes } = this;
    const flushIntervalMs = options.accessStatistics?.flushIntervalMs;
    if (flushIntervalMs !== undefined && !(Number.isInteger(flushIntervalMs) && flushIntervalMs >= 0 && flushIntervalMs <= 3_600_000)) {
      throw new ValidationError([
        {
          field: 'accessStatistics.flushIntervalMs',
          message: `must be an integer number of milliseconds from 0 to 3600000 (got ${String(flushIntervalMs)})`,
        },
      ]);
    }
    this.access = new AccessRecorder(store, events, now, flushIntervalMs !== undefined ? { flushIntervalMs } : {});
    const sealedMetadataFields = encryption.metadataFields instanceof Set ? encryption.metadataFields : undefined;
    this.reader = new Reader({ store, open, ontology, access: this.access, now, sealedMetadataFields });
    this.searcher = new Searcher({
      store,
      open,
      embedding,
      ontology,
      relationTypes,
      events,
      access: this.access,
      retrieval,
      decay: consolidation,
      reveal,
      now,
      sealedMetadataFields,
    });
    this.graph = new Graph({ store, open, relationTypes, events, metadataLimits, now });
    this.resolver = new Resolver({ store, open, embedding, graph: this.graph, relationTypes, events, now });
    const linkSuggester = new LinkSuggester({ store, open, searcher: this.searcher, graph: this.graph, relationTypes });
    this.linkSuggester = linkSuggester;
    this.conversationContext = new ConversationContext({ store, options: conversationContextOptions });
    this.sync = new Sync({
      store,
      open,
      embedding,
      events,
      options: syncOptions,
      now,
      erase: (ids) => this.eraser.eraseIds(ids, 'sync'),
      erasureLogDays: retention.erasureLogDays,
    });
    this.eraser = new Eraser({
      store,
      open,
      events,
      retention,
      onErased: () => embedding.forgetQueries(),
      beforeErase: (ids, origin) => this.sync.beforeErase(ids, origin),
      now,
    });
    this.writer = new Writer({
      conversationContext: this.conversationContext,
      store,
      open,
      embedding,
      encryption,
      ontology,
      events,
      dedup,
      maxContentBytes,
      metadataLimits,
      now,
      onCreated: autoLink ? (memory) => linkSuggester.linkInferred(memory, autoLink) : undefined,
    });
    const writer = this.writer;
    this.consolidator = new Consolidator({
      store,
      open,
      embedding,
      events,
      graph: this.graph,
      linkSuggester,
      addMany: (inputs) => writer.addMany(inputs, 'pattern'),
      options: consolidation,
      now,
    });
    const pdf = options.ingestion?.pdf;
    if (pdf !== undefined && typeof pdf !== 'function') {
      throw new ValidationError([{ field: 'ingestion.pdf', message: 'must be a function (bytes) => Promise<{ pages, title? }>' }]);
    }
    this.ingester = new Ingester({
      open,
      writeDocuments: (documents) => this.writeDocuments(documents),
      chunksOf: async (scope, sources) => {
        const wanted = scopeKey(scope);
        const found = new Map<string, MemoryRecord[]>();
        for (let start = 0; start < sources.length; start += 500) {
          const where = parseWhere({ source: { in: sources.slice(start, start + 500) }, documentHash: { exists: true } });
          let cursor: string | undefined;
          do {
            const page = await store.list({ scope, where }, { limit: 1000, ...(cursor ? { cursor } : {}) });
            for (const record of page.items) {
              if (scopeKey(record.scope) !== wanted) continue;
              const source = record.metadata.source as string;
              found.set(source, [...(found.get(source) ?? []), record]);
            }
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
        }
        return found;
      },
      ...(pdf ? { pdf } : {}),
    });
  }

  /** The embedder in use. With a factory, available once `ready()` has resolved. */
  get embedder(): Embedder {
    return this.embedding.embedder;
  }

  // ---------------------------------------------------------------- events

  on<Name extends MemoryEventName>(event: Name, handler: MemoryEvents[Name]): this {
    this.events.on(event, handler);
    return this;
  }

  once<Name extends MemoryEventName>(event: Name, handler: MemoryEvents[Name]): this {
    this.events.once(event, handler);
    return this;
  }

  off<Name extends MemoryEventName>(event: Name, handler?: MemoryEvents[Name]): this {
    this.events.off(event, handler);
    return this;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the store and checks the embedder. Called by every method; call it early to fail fast. */
  async ready(): Promise<void> {
    await this.open();
  }

  /** Opens the store once (again after a failure); answers the vector index in use, if any. */
  private open(): Promise<VectorIndex | undefined> {
    if (this.closed) return Promise.reject(new EngramError('CLOSED', 'This Memory is closed. Create a new one to keep working.'));
    this.openPromise ??= this.initialise().catch((error: unknown) => {
      this.openPromise = undefined;
      throw error;
    });
    return this.openPromise;
  }

  private async initialise(): Promise<VectorIndex | undefined> {
    await this.store.open();
    const stored = await this.store.getEmbedder();
    const embedder = await this.embedding.choose(stored);
    const supplied = { id: embedder.id, dimensions: embedder.dimensions };
    if (stored && (stored.id !== supplied.id || stored.dimensions !== supplied.dimensions)) {
      throw new EmbedderMismatchError(stored, supplied, this.store.location ?? `${this.store.name} store`);
    }
    if (!stored) await this.store.setEmbedder(supplied);
    const vectors = this.externalVectors ?? (this.store.capabilities.vectors ? this.store.vectors : undefined);
    if (vectors) await vectors.open(embedder.dimensions);
    else
      this.events.warnOnce('no-vectors', `The ${this.store.name} store has no vector index and none was given: search runs lexical only.`);
    if (this.store.capabilities.lexical === 'none' || !this.store.lexicalSearch) {
      this.events.warnOnce('no-lexical', `The ${this.store.name} store has no lexical search: search runs on vectors only.`);
    }
    await this.eraser.applyRetention(vectors);
    // Background rounds: opening never waits for the network.
    this.sync.start();
    return vectors;
  }

  /** Writes pending access statistics and closes the store. Further calls fail with code CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.openPromise) {
      await this.openPromise.catch(() => {});
      await this.access.flush();
    }
    await this.sync.stop();
    this.closed = true;
    this.access.stop();
    if (this.externalVectors?.close) await this.externalVectors.close();
    await this.store.close();
    this.events.removeAllListeners();
  }

  // ---------------------------------------------------------------- writing (write/)

  /** Stores one memory. An exact duplicate in the same scope returns the existing one. */
  add(input: AddInput): Promise<AddResult>;
  /**
   * Learns from a conversation with the `model`: extracts facts and reconciles them with what is
   * stored (add, update, supersede, unchanged). See extraction/ and docs/intelligence.md.
   */
  add(messages: string | ConversationMessage[], options: InferOptions): Promise<InferResult>;
  async add(input: AddInput | string | ConversationMessage[], options?: InferOptions): Promise<AddResult | InferResult> {
    if (options !== undefined || typeof input === 'string' || Array.isArray(input)) return this.infer(input, options);
    const [result] = await this.writer.addMany([input], 'input');
    return result as AddResult;
  }

  private async infer(messages: unknown, options: InferOptions | undefined): Promise<InferResult> {
    if (options?.infer !== true) {
      throw new ValidationError([
        { field: 'options.infer', message: 'must be true to learn from messages; to store text verbatim use add({ content })' },
      ]);
    }
    if (!this.model) {
      throw new ValidationError([
        { field: 'model', message: 'is not set: new Memory({ model: openaiCompatibleModel({ … }) }) (ENGRAM_MODEL for the CLI and MCP)' },
      ]);
    }
    const vectors = await this.open();
    const started = performance.now();
    const result = await inferMemories(this.inferenceHost(this.model, vectors !== undefined), messages, options, this.inference);
    this.events.emit('extraction:completed', {
      model: this.model.id,
      dryRun: options.dryRun === true,
      facts: result.plan.facts.length,
      operations: result.plan.operations.length,
      rejected: result.plan.rejected.length,
      written: result.results.filter((item) => item.status !== 'unchanged').length,
      usage: result.usage,
      warnings: result.warnings,
      durationMs: performance.now() - started,
    });
    return result;
  }

  /** The small surface extraction works through (see extraction/infer-memories.ts). */
  private inferenceHost(model: LanguageModel, hasVectors: boolean): InferenceHost {
    const types = Object.fromEntries(this.ontology.types.map((type) => [type, this.ontology.subtypesOf(type)]));
    return {
      model,
      types,
      now: this.now,
      related: async (query, scope, limit) => {
        // Not a read by the caller: access statistics are left alone.
        const hits = await this.searcher.search(query.slice(0, 10_000), { scope, limit, explain: true }, false);
        return hits.map((hit) => ({
          memory: hit.memory,
          similarity: hasVectors ? (hit.explanation?.vector?.similarity ?? 0) : null,
          lexical: hit.explanation?.lexical !== undefined,
        }));
      },
      add: async (memories) =>
        (await this.writer.addMany(this.inferredInputs(memories), 'inputs')).map(({ memory, status, warnings }) => ({
          memory,
          status,
          warnings,
        })),
      apply: (changes) => this.applyPlanChanges(changes),
    };
  }

  private inferredInputs(memories: NewMemory[]): AddInput[] {
    return memories.map(({ type, ...rest }) => {
      // A type the model made up is stored as observation (with a warning), even in strict mode.
      const known = type !== undefined && (this.ontology.isKnown(type) || this.ontology.isKnown(type.split('/')[1] ?? ''));
      return { ...rest, ...(known ? { type } : {}) };
    });
  }

  /**
   * An inference plan in one store transaction (`MemoryStore.apply`): everything is prepared
   * first (validated, embedded, sealed), then written at once; events, external vector payloads
   * and auto-links follow the commit. A store failure anywhere leaves the store as it was.
   */
  private async applyPlanChanges(changes: PlanChanges): Promise<PlanOutcome> {
    const added = await this.writer.prepareAdd(this.inferredInputs(changes.adds), 'inputs');
    const updates: PreparedUpdate[] = [];
    for (const update of changes.updates) updates.push(await this.writer.prepareUpdate(update.id, update.patch, { reason: update.reason }));
    const operations: StoreOperation[] = [];
    if (added.writes.length > 0) operations.push({ kind: 'write', items: added.writes });
    for (const update of updates) operations.push(update.operation);
    // A winner that is the loser itself (the same words) supersedes nothing.
    const supersessions = changes.supersessions.map((supersession) => {
      const winnerId = added.ids[supersession.add] as string;
      if (winnerId === supersession.loserId) return null;
      const at = operations.length;
      operations.push(...this.resolver.supersessionOperations(winnerId, supersession.loserId, supersession.reason));
      return { at, supersession };
    });
    const results = await applyOperations(this.store, operations);
    const written = added.writes.length > 0 ? (results[0] as Extract<StoreOperationResult, { kind: 'write' }>).results : [];
    const addResults = await this.writer.finishAdd(added, written);
    const offset = added.writes.length > 0 ? 1 : 0;
    const updated: MemoryRecord[] = [];
    for (const [index, update] of updates.entries()) {
      const result = results[offset + index] as Extract<StoreOperationResult, { kind: 'update' }>;
      updated.push(await this.writer.finishUpdate(update, result.record));
    }
    const superseded: Array<MemoryRecord | null> = [];
    for (const entry of supersessions) {
      if (!entry) {
        superseded.push(null);
        continue;
      }
      const edge = results[entry.at] as Extract<StoreOperationResult, { kind: 'upsertRelation' }>;
      const loser = (results[entry.at + 1] as Extract<StoreOperationResult, { kind: 'update' }>).record as MemoryRecord;
      const winner = (addResults[entry.supersession.add] as AddResult).memory;
      await this.resolver.finishSupersession(winner, edge, loser, entry.supersession.reason);
      superseded.push(loser);
    }
    return { added: addResults, updated, superseded };
  }

  /**
   * Ingestion's write: every document's chunks (one embedding pass), the deletion of its leftover
   * chunks and its `follows` chain, in one store transaction (`MemoryStore.apply`). Events,
   * external vectors and auto-links follow the commit.
   */
  private async writeDocuments(documents: DocumentWrite[]): Promise<DocumentWritten[]> {
    const added = await this.writer.prepareAdd(
      documents.flatMap((document) => document.inputs),
      'chunks',
    );
    const operations: StoreOperation[] = [];
    if (added.writes.length > 0) operations.push({ kind: 'write', items: added.writes });
    const at = new Date(this.now());
    const removed = documents.flatMap((document) => document.remove);
    for (const record of removed) operations.push({ kind: 'delete', id: record.id, at });
    const linksAt = operations.length;
    let offset = 0;
    for (const document of documents) {
      for (let index = offset + 1; index < offset + document.inputs.length; index++) {
        const later = added.ids[index] as string;
        const earlier = added.ids[index - 1] as string;
        // Chunks were written in this batch: the edge needs no liveness look-ups.
        if (later !== earlier) {
          operations.push({
            kind: 'upsertRelation',
            relation: {
              sourceId: later,
              targetId: earlier,
              type: 'follows',
              weight: 1,
              confidence: 1,
              metadata: {},
              inferred: false,
              createdAt: at,
              updatedAt: at,
            },
          });
        }
      }
      offset += document.inputs.length;
    }
    const results = await applyOperations(this.store, operations);
    const written = added.writes.length > 0 ? (results[0] as Extract<StoreOperationResult, { kind: 'write' }>).results : [];
    const addResults = await this.writer.finishAdd(added, written);
    const deletedIds = new Set<string>();
    for (const [index, record] of removed.entries()) {
      const result = results[(added.writes.length > 0 ? 1 : 0) + index] as Extract<StoreOperationResult, { kind: 'delete' }>;
      if (!result.deleted) continue;
      deletedIds.add(record.id);
      await this.writer.finishDelete(record, added.vectorIndex);
    }
    for (const result of results.slice(linksAt)) {
      if (result.kind === 'upsertRelation') this.events.emit('relation:added', { relation: result.relation, created: result.created });
    }
    offset = 0;
    return documents.map((document) => {
      const mine = addResults.slice(offset, offset + document.inputs.length);
      offset += document.inputs.length;
      return { results: mine, deleted: document.remove.filter((record) => deletedIds.has(record.id)).length };
    });
  }

  /** Stores many memories in one transaction with batched embedding. Bad input writes nothing. */
  addMany(inputs: AddInput[], root = 'inputs'): Promise<AddResult[]> {
    return this.writer.addMany(inputs, root);
  }

  /** Changes content, tags, metadata, type or importance. Re-embeds when the content changes. `reason` goes to history. */
  update(id: string, patch: UpdatePatch, options: { reason?: string } = {}): Promise<MemoryRecord> {
    return this.writer.update(id, patch, options);
  }

  /** Soft delete: the memory disappears from get, search, list and count. False when unknown. */
  delete(id: string): Promise<boolean> {
    return this.writer.delete(id);
  }

  /**
   * Re-derives the conversation context of stored memories (those written before it existed, or
   * with another window): every memory with a `conversationId` whose context is absent or
   * derived, within `scope` / `conversationId` when given. A caller's context is never changed.
   * `turns` sets the window for this run; with 0 (or `conversationContext: false`) it removes derived contexts.
   */
  async reindexContext(options: { scope?: Scope; conversationId?: string; turns?: number } = {}): Promise<ReindexContextResult> {
    const parsed = validate(reindexContextSchema, options, 'options');
    await this.open();
    return this.conversationContext.reindex(
      {
        ...(parsed.scope ? { scope: compactScope(parsed.scope) } : {}),
        ...(parsed.conversationId !== undefined ? { conversationId: parsed.conversationId } : {}),
      },
      parsed.turns,
    );
  }

  // ---------------------------------------------------------------- erasure (erasure/)

  /**
   * Right to erasure: hard-deletes every memory of a scope (`{ scope: { userId: 'alice' } }`) or
   * these ids — live, superseded or soft-deleted — with their history, edges, vectors, index
   * entries and snapshot contents, then reclaims the space. `history(id)` is empty afterwards.
   */
  forget(input: ForgetInput): Promise<ForgetResult> {
    return this.eraser.forget(input);
  }

  /** Erases soft-deleted memories deleted more than `olderThanDays` (default `retention.deletedDays`) days ago. */
  purgeDeleted(options: { olderThanDays?: number } = {}): Promise<ForgetResult> {
    return this.eraser.purgeDeleted(options);
  }

  /**
   * A consistent copy of the whole store in one file, taken while other processes keep writing
   * (SQLite's online backup API). Restore with `engram restore`. Postgres: use pg_dump.
   */
  async backup(destination: string, options: BackupOptions = {}): Promise<BackupResult> {
    if (typeof destination !== 'string' || destination.trim().length === 0) {
      throw new ValidationError([{ field: 'destination', message: 'must be the path of the backup file to write' }]);
    }
    await this.open();
    if (!this.store.backup) {
      throw new EngramError(
        'UNSUPPORTED',
        `The ${this.store.name} store cannot write a file backup: ${this.store.name === 'postgres' ? 'use pg_dump (see docs/data-safety.md)' : 'use engram export, or a store with backup() such as SQLite'}.`,
      );
    }
    await this.access.flush();
    return this.store.backup(destination, options);
  }

  // ---------------------------------------------------------------- reading (retrieval/)

  /** The memory, or null when unknown or deleted. */
  async get(id: string): Promise<MemoryRecord | null> {
    const record = await this.reader.get(id);
    return record && this.encryption.reveal(record);
  }

  /** Newest first, with a cursor for the next page. */
  /** Sensitive memories come back opened with the key (`decrypt: false`: as stored, e.g. for exports). */
  async list(options: ListOptions = {}): Promise<ListResult> {
    const page = await this.reader.list(options);
    return options?.decrypt === false ? page : { ...page, items: await this.encryption.revealAll(page.items) };
  }

  /** How many live memories match. */
  count(filter: CountFilter = {}): Promise<number> {
    return this.reader.count(filter);
  }

  /**
   * Counts over the live memories matching the filter (by type, subtype, user, agent, tag, per
   * day created since `createdSince`; superseded; relations leaving them): aggregate queries on
   * SQLite and Postgres, a scan of the matching memories on other stores. What `GET
   * /api/stats/breakdown` and the dashboard's Stats page show.
   */
  statistics(filter: CountFilter = {}, options: { createdSince?: Date; tagLimit?: number } = {}): Promise<StoreStatistics> {
    return this.reader.statistics(filter, options);
  }

  /**
   * The distinct values of one metadata field (a dotted path: 'project.stage') among the live
   * memories matching the filter, in any order; memories without the field are left out. One
   * query on stores with `distinctMetadata` (SQLite, Postgres, in-memory), a scan otherwise.
   */
  distinct(field: string, filter: CountFilter = {}): Promise<unknown[]> {
    return this.reader.distinct(field, filter);
  }

  /** Every change to a memory, oldest first: created, updated (old → new), superseded, deleted. */
  async history(id: string): Promise<HistoryEntry[]> {
    return this.encryption.revealHistory(await this.reader.history(id));
  }

  /** Hybrid (lexical + vector) search with filters applied inside each candidate query. */
  search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return this.searcher.search(query, options);
  }

  /** The best memories for a query, packed into a prompt-ready block within a token budget. */
  context(options: ContextOptions): Promise<ContextResult> {
    return packContext(this.searcher, options);
  }

  // ---------------------------------------------------------------- graph (graph/)

  /** Creates (or updates the weight/confidence/metadata of) the edge source —type→ target. */
  link(sourceId: string, targetId: string, type: string, options: LinkOptions = {}): Promise<Relation> {
    return this.graph.link(sourceId, targetId, type, options, false);
  }

  /** Removes the edge(s) between two memories: of one type, or of every type. Returns how many. */
  unlink(sourceId: string, targetId: string, type?: string): Promise<number> {
    return this.graph.unlink(sourceId, targetId, type);
  }

  /** The raw edges of a memory (direction `both` by default). Edges to deleted memories are never returned. */
  relations(id: string, options: RelationsOptions = {}): Promise<Relation[]> {
    return this.graph.relations(id, options);
  }

  /** Memories linked to this one, up to `depth` hops, nearest first, each once. */
  async neighbors(id: string, options: NeighborsOptions = {}): Promise<Neighbor[]> {
    const found = await this.graph.neighbors(id, options);
    for (const neighbor of found) neighbor.memory = await this.encryption.reveal(neighbor.memory);
    return found;
  }

  /** The shortest chain of memories from one to another (following edges `direction`, default 'both' like `neighbors`), or null. */
  async path(fromId: string, toId: string, options: PathOptions = {}): Promise<MemoryRecord[] | null> {
    const found = await this.graph.path(fromId, toId, options);
    return found && this.encryption.revealAll(found);
  }

  /** The memories within `radius` hops (either direction) and every edge among them: ready for D3 and friends. */
  async subgraph(id: string, options: SubgraphOptions = {}): Promise<Subgraph> {
    const found = await this.graph.subgraph(id, options);
    return { ...found, nodes: await this.encryption.revealAll(found.nodes) };
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
    const { winner, loser } = await this.resolver.resolve(winnerId, loserId, options);
    return { winner: await this.encryption.reveal(winner), loser: await this.encryption.reveal(loser) };
  }

  // ---------------------------------------------------------------- encryption (encryption/)

  /**
   * Re-wraps the data key of every sensitive memory (live, superseded or deleted) under the
   * current key (`encryption.key` / `keyProvider()`); the older keys must still be available
   * (`previousKeys`). The content itself is not re-encrypted. Answers how many were re-wrapped.
   */
  async rotateEncryption(
    options: { onProgress?: (progress: { done: number; total: number }) => void } = {},
  ): Promise<{ rewrapped: number; keyId: string }> {
    await this.open();
    const current = await this.encryption.currentKey();
    if (!this.store.rewrapContent) {
      throw new EngramError('UNSUPPORTED', `The ${this.store.name} store cannot rotate encryption keys (it has no rewrapContent method).`);
    }
    const targets: Array<{ id: string; content: string; context?: string; metadata: Record<string, unknown> }> = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.list({ includeSuperseded: true }, { limit: 1000, includeDeleted: true, ...(cursor ? { cursor } : {}) });
      for (const record of page.items) {
        if (isEnvelope(record.content))
          targets.push({
            id: record.id,
            content: record.content,
            metadata: record.metadata,
            ...(record.context !== undefined ? { context: record.context } : {}),
          });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    let rewrapped = 0;
    for (const [index, target] of targets.entries()) {
      const content = await this.encryption.rewrap(target.content);
      const context = target.context !== undefined ? await this.encryption.rewrap(target.context) : null;
      const metadata = await this.encryption.rewrapMetadata(target.metadata);
      if (content !== null || context !== null || metadata !== null) {
        await this.store.rewrapContent(target.id, {
          ...(content !== null ? { content } : {}),
          ...(context !== null ? { context } : {}),
          ...(metadata !== null ? { metadata } : {}),
        });
        rewrapped += 1;
      }
      options.onProgress?.({ done: index + 1, total: targets.length });
    }
    return { rewrapped, keyId: current.id };
  }

  /** Links this memory probably has, with a guessed type, a confidence and reasons. Writes nothing. */
  suggestLinks(id: string, options: { limit?: number } = {}): Promise<LinkSuggestion[]> {
    return this.linkSuggester.suggest(id, options);
  }

  // ---------------------------------------------------------------- consolidation (consolidation/)

  /**
   * Keeps a long-lived memory healthy: scores every memory's decay (relevance), archives then
   * soft-deletes the faded ones (forgetting), turns near-duplicate clusters into `pattern`
   * memories (compression) and, when asked, suggests links (associations). A dry run by default:
   * pass `dryRun: false` to apply. The report lists ids and reasons either way.
   */
  async consolidate(options: ConsolidateOptions = {}): Promise<ConsolidationReport> {
    // The access boost reads stored access counts: write the pending ones first.
    await this.access.flush();
    return this.consolidator.consolidate(options);
  }

  // ---------------------------------------------------------------- ingestion (ingestion/)

  /**
   * Reads documents (text + title, or a file's bytes + name: Markdown, text, HTML, JSON, JSONL,
   * CSV, PDF, code) into chunks that follow their structure, one keyed memory each, linked
   * `follows` in order. Re-ingesting an unchanged document writes nothing; a changed one replaces
   * its chunks. A document that cannot be read is reported in the result and skipped.
   */
  ingest(source: IngestSource | IngestSource[], options: IngestOptions = {}): Promise<IngestReport> {
    return this.ingester.ingest(source, options);
  }
}
