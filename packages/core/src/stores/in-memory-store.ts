import { inMemoryVectorCollections } from '../collections/in-memory-collections.js';
import type {
  ChangeLogEntry,
  ChangeLogPage,
  ErasureLogEntry,
  LexicalMatch,
  MemoryStore,
  RecordPatch,
  StoreListOptions,
  StoreListPage,
  StoreOperation,
  StoreOperationResult,
  StoreWrite,
  StoreWriteResult,
} from '../contracts/memory-store.js';
import type { EmbedderInfo, HistoryEntry, MemoryFilter, MemoryRecord, Relation, Scope } from '../contracts/model.js';
import { matchesFilter, metadataAt, scopeKey } from '../filter/filter.js';
import { ValidationError } from '../model/errors.js';
import { BM25_B, BM25_K1, DEFAULT_CONTEXT_WEIGHT, queryTerms, termFrequencies, terms } from '../text/text.js';
import { decodeCursor, encodeCursor, isAfterPosition } from './cursor.js';
import { historyEntry, updateEvent } from './history.js';
import { inMemoryVectorIndex } from './in-memory-vector-index.js';
import { checkOperations, missingRecord, OperationIds, operationVectors } from './store-operations.js';

export interface InMemoryStoreOptions {
  /**
   * How much a word in a memory's `context` counts in lexical search next to one in its content
   * or tags, from 0 to 1. Default 0.5 (`DEFAULT_CONTEXT_WEIGHT`), as in the SQLite store.
   */
  contextWeight?: number;
}

function clone(record: MemoryRecord): MemoryRecord {
  return structuredClone(record);
}

/**
 * The reference `MemoryStore`: everything in process memory, gone on exit. Used by tests, by
 * short-lived agents, and as the executable definition of the store contract.
 */
export function inMemoryStore(options: InMemoryStoreOptions = {}): MemoryStore {
  const contextWeight = options.contextWeight ?? DEFAULT_CONTEXT_WEIGHT;
  if (!(contextWeight >= 0 && contextWeight <= 1)) {
    throw new ValidationError([{ field: 'contextWeight', message: `must be a number from 0 to 1 (got ${contextWeight})` }]);
  }
  const records = new Map<string, MemoryRecord>();
  /** term → (id → term frequency) */
  const postings = new Map<string, Map<string, number>>();
  const lengths = new Map<string, number>();
  let totalLength = 0;
  let embedder: EmbedderInfo | null = null;
  const histories = new Map<string, HistoryEntry[]>();
  /** (source, target, type) → edge, in insertion order. */
  const relations = new Map<string, Relation>();
  const relationKey = (sourceId: string, targetId: string, type: string) => JSON.stringify([sourceId, targetId, type]);
  /** The store-wide change log: every history entry and graph change, numbered from one sequence. */
  const changeLog: ChangeLogEntry[] = [];
  let head = 0;
  const meta = new Map<string, string>();
  /** Sync's erasure log (see `appendErasures`) and the highest number it gave. */
  const erasures: ErasureLogEntry[] = [];
  let erasureHead = 0;
  const appendHistory = (entry: HistoryEntry) => {
    const list = histories.get(entry.memoryId) ?? [];
    list.push(structuredClone(entry));
    histories.set(entry.memoryId, list);
    changeLog.push({ ...structuredClone(entry), seq: ++head });
  };
  const logRelation = (event: 'relation:added' | 'relation:removed', relation: Relation, at: Date, reason: string | undefined) => {
    changeLog.push({ event, memoryId: relation.sourceId, relation: structuredClone(relation), at, reason: reason ?? null, seq: ++head });
  };
  const vectors = inMemoryVectorIndex({ lookup: (id) => records.get(id) });

  // BM25 as SQLite's FTS5 computes it with column weights: a term's frequency is the weighted sum
  // over content, tags (weight 1) and context (`contextWeight`); the length is every token.
  const indexText = (record: MemoryRecord) => {
    const { frequencies, length } = termFrequencies(record.content, record.tags, record.context, contextWeight);
    lengths.set(record.id, length);
    totalLength += length;
    for (const [token, frequency] of frequencies) {
      let posting = postings.get(token);
      if (!posting) {
        posting = new Map();
        postings.set(token, posting);
      }
      posting.set(record.id, frequency);
    }
  };
  const unindexText = (record: MemoryRecord) => {
    totalLength -= lengths.get(record.id) ?? 0;
    lengths.delete(record.id);
    for (const token of new Set(terms(`${record.content} ${record.tags.join(' ')} ${record.context ?? ''}`))) {
      const posting = postings.get(token);
      posting?.delete(record.id);
      if (posting?.size === 0) postings.delete(token);
    }
  };
  const live = (id: string) => {
    const record = records.get(id);
    return record && !record.deletedAt ? record : undefined;
  };
  const findLive = (scope: Scope, test: (record: MemoryRecord) => boolean) => {
    const key = scopeKey(scope);
    for (const record of records.values()) {
      if (!record.deletedAt && scopeKey(record.scope) === key && test(record)) return record;
    }
    return undefined;
  };
  const sameContent = (a: MemoryRecord, b: MemoryRecord) =>
    a.contentHash === b.contentHash &&
    a.context === b.context &&
    a.contextSource === b.contextSource &&
    a.type === b.type &&
    a.subtype === b.subtype &&
    a.importance === b.importance &&
    JSON.stringify(a.tags) === JSON.stringify(b.tags) &&
    JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

  const writeNow = (items: StoreWrite[]): StoreWriteResult[] => {
    // Validate vectors first so a bad item leaves nothing half-written.
    checkVectors(items.flatMap((item) => (item.vector ? [{ vector: item.vector, field: `vector of ${item.record.id}` }] : [])));
    const results: StoreWriteResult[] = [];
    for (const { record, vector, reason } of items) {
      const keyed = record.key !== null ? findLive(record.scope, (existing) => existing.key === record.key) : undefined;
      if (keyed) {
        const { context: _previousContext, contextSource: _previousSource, ...kept } = keyed;
        const updated: MemoryRecord = {
          ...kept,
          content: record.content,
          ...(record.context !== undefined ? { context: record.context } : {}),
          ...(record.context !== undefined && record.contextSource !== undefined ? { contextSource: record.contextSource } : {}),
          contentHash: record.contentHash,
          type: record.type,
          subtype: record.subtype,
          tags: [...record.tags],
          metadata: structuredClone(record.metadata),
          importance: record.importance,
          updatedAt: record.updatedAt,
        };
        if (sameContent(keyed, updated)) {
          results.push({ status: 'duplicate', record: clone(keyed) });
          continue;
        }
        unindexText(keyed);
        records.set(keyed.id, updated);
        indexText(updated);
        appendHistory(historyEntry('updated', keyed, updated, record.updatedAt, reason ?? null));
        if (vector) vectors.upsertNow([{ id: keyed.id, vector, payload: updated }]);
        results.push({ status: 'updated', record: clone(updated) });
        continue;
      }
      const duplicate = record.key === null ? findLive(record.scope, (existing) => existing.contentHash === record.contentHash) : undefined;
      if (duplicate) {
        results.push({ status: 'duplicate', record: clone(duplicate) });
        continue;
      }
      const stored = clone(record);
      records.set(stored.id, stored);
      indexText(stored);
      appendHistory(historyEntry('created', null, stored, stored.createdAt, reason ?? null));
      if (vector) vectors.upsertNow([{ id: stored.id, vector, payload: stored }]);
      results.push({ status: 'created', record: clone(stored) });
    }
    return results;
  };
  const updateNow = (id: string, patch: RecordPatch, vector: Float32Array | undefined, reason: string | undefined) => {
    const existing = live(id);
    if (!existing) return null;
    const updated: MemoryRecord = { ...existing, ...structuredClone(patch) };
    if (patch.content !== undefined || patch.tags !== undefined) {
      unindexText(existing);
      indexText(updated);
    }
    records.set(id, updated);
    appendHistory(historyEntry(updateEvent(existing, updated), existing, updated, patch.updatedAt, reason ?? null));
    if (vector) vectors.upsertNow([{ id, vector, payload: updated }]);
    return clone(updated);
  };
  const deleteNow = (id: string, at: Date, reason?: string) => {
    const existing = live(id);
    if (!existing) return false;
    unindexText(existing);
    const deleted = { ...existing, deletedAt: at, updatedAt: at };
    records.set(id, deleted);
    appendHistory(historyEntry('deleted', existing, deleted, at, reason ?? null));
    vectors.deleteNow([id]);
    return true;
  };
  const upsertRelationNow = (relation: Relation, reason?: string) => {
    const key = relationKey(relation.sourceId, relation.targetId, relation.type);
    const existing = relations.get(key);
    const stored: Relation = existing
      ? {
          ...existing,
          weight: relation.weight,
          confidence: relation.confidence,
          metadata: structuredClone(relation.metadata),
          inferred: relation.inferred,
          updatedAt: relation.updatedAt,
        }
      : structuredClone(relation);
    relations.set(key, stored);
    logRelation('relation:added', stored, stored.updatedAt, reason);
    return { relation: structuredClone(stored), created: !existing };
  };
  const removeRelationsNow = (sourceId: string, targetId: string, type: string | undefined, reason?: string) => {
    const removed: Relation[] = [];
    const at = new Date();
    for (const [key, relation] of relations) {
      if (relation.sourceId === sourceId && relation.targetId === targetId && (type === undefined || relation.type === type)) {
        relations.delete(key);
        removed.push(relation);
        logRelation('relation:removed', relation, at, reason);
      }
    }
    return removed;
  };
  const checkVectors = (items: Array<{ vector: Float32Array; field: string }>) => {
    const dimensions = embedder?.dimensions;
    for (const { vector, field } of items) {
      if (dimensions !== undefined && vector.length !== dimensions) {
        throw new RangeError(`${field} has ${vector.length} dimensions, store holds ${dimensions}`);
      }
    }
  };
  /** Copies of everything a batch can change; the function returned restores them. */
  const checkpoint = () => {
    const saved = {
      records: new Map(records),
      histories: new Map([...histories].map(([id, entries]) => [id, [...entries]])),
      relations: new Map(relations),
      postings: new Map([...postings].map(([token, posting]) => [token, new Map(posting)])),
      lengths: new Map(lengths),
      totalLength,
      changeLogLength: changeLog.length,
      head,
      meta: new Map(meta),
      vectors: vectors.checkpoint(),
    };
    const restore = <K, V>(target: Map<K, V>, source: Map<K, V>) => {
      target.clear();
      for (const [key, value] of source) target.set(key, value);
    };
    return () => {
      restore(records, saved.records);
      restore(histories, saved.histories);
      restore(relations, saved.relations);
      restore(postings, saved.postings);
      restore(lengths, saved.lengths);
      totalLength = saved.totalLength;
      changeLog.length = saved.changeLogLength;
      head = saved.head;
      restore(meta, saved.meta);
      saved.vectors();
    };
  };

  return {
    specificationVersion: 'v1',
    name: 'memory',
    capabilities: { lexical: 'bm25', vectors: true, multiProcess: false },
    vectors,
    collections: inMemoryVectorCollections(),
    async open() {},
    async close() {},
    async getEmbedder() {
      return embedder;
    },
    async setEmbedder(info) {
      embedder = { ...info };
    },

    async write(items: StoreWrite[]): Promise<StoreWriteResult[]> {
      return writeNow(items);
    },

    async apply(operations: StoreOperation[]): Promise<StoreOperationResult[]> {
      checkOperations(operations);
      checkVectors(operationVectors(operations));
      // Everything below is synchronous: no other call interleaves, and a failure puts back the
      // state as it was before the batch.
      const rollback = checkpoint();
      try {
        const resolved = new OperationIds();
        return operations.map((operation): StoreOperationResult => {
          switch (operation.kind) {
            case 'write': {
              const results = writeNow(operation.items);
              resolved.noteWrites(operation.items, results);
              return { kind: 'write', results };
            }
            case 'update': {
              const id = resolved.id(operation.id);
              const record = updateNow(id, resolved.patch(operation.patch), operation.vector, operation.reason);
              if (!record && operation.required) throw missingRecord(id);
              return { kind: 'update', record };
            }
            case 'delete': {
              const id = resolved.id(operation.id);
              const deleted = deleteNow(id, operation.at, operation.reason);
              if (!deleted && operation.required) throw missingRecord(id);
              return { kind: 'delete', deleted };
            }
            case 'upsertRelation':
              return { kind: 'upsertRelation', ...upsertRelationNow(resolved.relation(operation.relation), operation.reason) };
            case 'setMeta':
              meta.set(operation.name, operation.value);
              return { kind: 'setMeta' };
          }
          return {
            kind: 'removeRelations',
            removed: removeRelationsNow(resolved.id(operation.sourceId), resolved.id(operation.targetId), operation.type, operation.reason),
          };
        });
      } catch (error) {
        rollback();
        throw error;
      }
    },

    async findByHashes(scope, hashes) {
      const key = scopeKey(scope);
      const wanted = new Set(hashes);
      return [...records.values()]
        .filter((record) => !record.deletedAt && scopeKey(record.scope) === key && wanted.has(record.contentHash))
        .map(clone);
    },

    async update(id: string, patch: RecordPatch, vector?: Float32Array, options?: { reason?: string }) {
      if (vector) checkVectors([{ vector, field: `vector of ${id}` }]);
      return updateNow(id, patch, vector, options?.reason);
    },

    async setDerivedContexts(items) {
      let changed = 0;
      for (const { id, context } of items) {
        const existing = live(id);
        if (!existing || (existing.context !== undefined && existing.contextSource !== 'conversation')) continue;
        const text = context?.trim() ? context : undefined;
        if (text === existing.context) continue;
        const { context: _previousContext, contextSource: _previousSource, ...kept } = existing;
        const updated: MemoryRecord = { ...kept, ...(text !== undefined ? { context: text, contextSource: 'conversation' as const } : {}) };
        unindexText(existing);
        records.set(id, updated);
        indexText(updated);
        changed += 1;
      }
      return changed;
    },

    async get(ids) {
      return ids.flatMap((id) => {
        const record = live(id);
        return record ? [clone(record)] : [];
      });
    },

    async list(filter: MemoryFilter, options: StoreListOptions): Promise<StoreListPage> {
      const position = options.cursor ? decodeCursor(options.cursor) : undefined;
      const matching = [...records.values()]
        .filter((record) =>
          options.includeDeleted && record.deletedAt
            ? matchesFilter({ ...record, deletedAt: null }, filter)
            : matchesFilter(record, filter),
        )
        .filter((record) => !position || isAfterPosition(record.createdAt.getTime(), record.id, position))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      const items = matching.slice(0, options.limit).map(clone);
      const last = items.at(-1);
      const nextCursor =
        matching.length > options.limit && last ? encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null;
      return { items, nextCursor };
    },

    async count(filter) {
      let total = 0;
      for (const record of records.values()) if (matchesFilter(record, filter)) total += 1;
      return total;
    },

    async distinctMetadata(path, filter) {
      const values = new Map<string, unknown>();
      for (const record of records.values()) {
        if (!matchesFilter(record, filter)) continue;
        const value = metadataAt(record.metadata, path);
        if (value !== undefined) values.set(JSON.stringify(value), structuredClone(value));
      }
      return [...values.values()];
    },

    async delete(id, at, options) {
      return deleteNow(id, at, options?.reason);
    },

    async upsertRelation(relation: Relation, options) {
      return upsertRelationNow(relation, options?.reason);
    },

    async removeRelations(sourceId, targetId, type, options) {
      return removeRelationsNow(sourceId, targetId, type, options?.reason);
    },

    async changesSince(after: number | null, limit: number): Promise<ChangeLogPage> {
      if (after === null || after >= head) return { head, entries: [] };
      // Sequence numbers only grow, so the first entry after `after` is found by bisection.
      let low = 0;
      let high = changeLog.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if ((changeLog[middle] as ChangeLogEntry).seq <= after) low = middle + 1;
        else high = middle;
      }
      return { head, entries: structuredClone(changeLog.slice(low, low + limit)) };
    },

    async getMeta(name) {
      return meta.get(name) ?? null;
    },

    async setMeta(name, value) {
      meta.set(name, value);
    },

    async appendErasures(entries, at) {
      return entries.map((entry) => {
        erasureHead += 1;
        erasures.push({ seq: erasureHead, ids: [...entry.ids], origin: entry.origin, at: new Date(at) });
        return erasureHead;
      });
    },

    async erasuresAfter(after, limit) {
      const first = erasures[0];
      const horizon = first ? first.seq - 1 : erasureHead;
      const entries = erasures.filter((entry) => entry.seq > after).slice(0, limit);
      return { head: erasureHead, horizon, entries: structuredClone(entries) };
    },

    async compactErasures(through, before) {
      let removed = 0;
      while (removed < erasures.length) {
        const entry = erasures[removed] as ErasureLogEntry;
        if (entry.seq > through || entry.at.getTime() >= before.getTime()) break;
        removed += 1;
      }
      erasures.splice(0, removed);
      return removed;
    },

    async relationsOf(ids, options) {
      const wanted = new Set(ids);
      const types = options.types ? new Set(options.types) : undefined;
      const found: Relation[] = [];
      for (const relation of relations.values()) {
        if (types && !types.has(relation.type)) continue;
        const out = wanted.has(relation.sourceId);
        const incoming = wanted.has(relation.targetId);
        if (
          (options.direction === 'out' && out) ||
          (options.direction === 'in' && incoming) ||
          (options.direction === 'both' && (out || incoming))
        ) {
          found.push(structuredClone(relation));
        }
      }
      return found.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    },

    async history(id) {
      return structuredClone(histories.get(id) ?? []);
    },

    async rewrapContent(id, texts) {
      const record = records.get(id);
      if (!record) return false;
      if (!record.deletedAt) unindexText(record);
      if (texts.content !== undefined) record.content = texts.content;
      if (texts.context !== undefined) record.context = texts.context;
      if (texts.metadata !== undefined) record.metadata = structuredClone(texts.metadata);
      if (!record.deletedAt) indexText(record);
      return true;
    },

    async purge(ids) {
      const wanted = new Set(ids);
      let removed = 0;
      for (const id of wanted) {
        const record = records.get(id);
        if (!record) continue;
        if (!record.deletedAt) unindexText(record);
        records.delete(id);
        histories.delete(id);
        removed += 1;
      }
      for (let index = changeLog.length - 1; index >= 0; index--) {
        const entry = changeLog[index] as ChangeLogEntry;
        const erased =
          'relation' in entry ? wanted.has(entry.relation.sourceId) || wanted.has(entry.relation.targetId) : wanted.has(entry.memoryId);
        if (erased) changeLog.splice(index, 1);
      }
      for (const [key, relation] of relations) {
        if (wanted.has(relation.sourceId) || wanted.has(relation.targetId)) relations.delete(key);
      }
      await vectors.delete([...wanted]);
      return removed;
    },

    async lexicalSearch(query: string, filter: MemoryFilter, limit: number): Promise<LexicalMatch[]> {
      const wanted = queryTerms(query);
      if (wanted.length === 0) return [];
      const documentCount = lengths.size;
      const averageLength = documentCount > 0 ? totalLength / documentCount : 0;
      const scores = new Map<string, number>();
      for (const term of wanted) {
        const posting = postings.get(term);
        if (!posting) continue;
        const idf = Math.log(1 + (documentCount - posting.size + 0.5) / (posting.size + 0.5));
        for (const [id, frequency] of posting) {
          const length = lengths.get(id) ?? 0;
          const norm = frequency + BM25_K1 * (1 - BM25_B + (BM25_B * length) / (averageLength || 1));
          scores.set(id, (scores.get(id) ?? 0) + (idf * frequency * (BM25_K1 + 1)) / norm);
        }
      }
      const matches: LexicalMatch[] = [];
      for (const [id, score] of scores) {
        const record = records.get(id);
        if (record && matchesFilter(record, filter)) matches.push({ id, score });
      }
      matches.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
      return matches.slice(0, limit);
    },

    async recordAccess(ids, at) {
      for (const id of ids) {
        const record = live(id);
        if (record) records.set(id, { ...record, accessCount: record.accessCount + 1, lastAccessedAt: at });
      }
    },

    async recordDecayScores(scores) {
      for (const { id, score } of scores) {
        const record = live(id);
        if (record) records.set(id, { ...record, decayScore: score });
      }
    },
  };
}
