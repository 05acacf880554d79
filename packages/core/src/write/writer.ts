import type { MemoryStore, StoreWrite, StoreWriteResult, WriteStatus } from '../contracts/memory-store.js';
import type { MemoryRecord, Scope } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { Embedding } from '../embedding/embedding.js';
import type { EventHub } from '../events/event-hub.js';
import { scopeKey } from '../filter/filter.js';
import { NotFoundError, ValidationError } from '../model/errors.js';
import { checkMetadata, type ResolvedMetadataLimits } from '../model/input-guards.js';
import type { Ontology } from '../model/ontology.js';
import { type AddInput, type UpdatePatch, updatePatchSchema, validate, validateId } from '../model/schema.js';
import { contentHash, normaliseTags } from '../text/text.js';
import { findNearDuplicate, type ResolvedDedupOptions } from './near-duplicates.js';
import { newRecord } from './new-record.js';

export interface AddResult {
  memory: MemoryRecord;
  status: WriteStatus;
  warnings: string[];
}

export interface WriterContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use, if any. */
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  ontology: Ontology;
  events: EventHub;
  dedup: ResolvedDedupOptions;
  maxContentBytes: number;
  metadataLimits: ResolvedMetadataLimits;
  now: () => number;
  /** Runs for each memory `addMany` created, after its `memory:added` event (auto-linking). */
  onCreated?: ((memory: MemoryRecord) => Promise<void>) | undefined;
}

/**
 * The write path: `addMany` (validate, skip stored exact duplicates before embedding, embed in
 * batches, optional near-duplicate check, one store write), `update` and `delete`; keeps a separate
 * vector index in step and emits `memory:added` / `memory:updated` / `memory:deleted`.
 */
export class Writer {
  constructor(private readonly context: WriterContext) {}

  async addMany(inputs: AddInput[], root: string): Promise<AddResult[]> {
    const { store, events } = this.context;
    if (!Array.isArray(inputs)) throw new ValidationError([{ field: root, message: 'must be an array of memories' }]);
    const prepared = inputs.map((input, index) => newRecord(input, root === 'input' ? '' : `${root}.${index}`, this.context));
    const vectorIndex = await this.context.open();
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
      for (const existing of await store.findByHashes(group.scope, group.hashes))
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
      const vectors = vectorIndex ? await this.context.embedding.embedMany(toWrite.map((item) => item.record.content)) : undefined;
      if (this.context.dedup.semantic && vectorIndex && vectors) {
        for (let position = toWrite.length - 1; position >= 0; position--) {
          const item = toWrite[position] as (typeof toWrite)[number];
          if (item.record.conversationId !== null) continue;
          const near = await findNearDuplicate(
            store,
            vectorIndex,
            item.record,
            vectors[position] as Float32Array,
            this.context.dedup,
            this.context.now(),
          );
          if (near) {
            results[item.index] = { memory: near, status: 'duplicate', warnings: item.warnings };
            toWrite.splice(position, 1);
            vectors.splice(position, 1);
          }
        }
      }
      const ownVectors = vectorIndex !== undefined && vectorIndex === store.vectors;
      const writes: StoreWrite[] = toWrite.map((item, position) => ({
        record: item.record,
        ...(ownVectors && vectors ? { vector: vectors[position] as Float32Array } : {}),
      }));
      const written: StoreWriteResult[] = writes.length > 0 ? await store.write(writes) : [];
      if (vectorIndex && !ownVectors && vectors) {
        const upserts = written.flatMap((result, position) =>
          result.status === 'duplicate'
            ? []
            : [{ id: result.record.id, vector: vectors[position] as Float32Array, payload: result.record }],
        );
        if (upserts.length > 0) await vectorIndex.upsert(upserts);
      }
      written.forEach((result, position) => {
        const item = toWrite[position] as (typeof toWrite)[number];
        results[item.index] = { memory: result.record, status: result.status, warnings: item.warnings };
      });
      this.context.embedding.forgetQueries();
      for (const result of written) {
        if (result.status !== 'duplicate') events.emit('memory:added', { memory: result.record, status: result.status });
      }
      const onCreated = this.context.onCreated;
      if (onCreated) {
        for (const result of written) if (result.status === 'created') await onCreated(result.record);
      }
    }
    // The caller has them in `warnings` too, so they go to listeners only (not the logger).
    for (const result of results as AddResult[]) {
      for (const message of result.warnings) events.emit('warning', { message });
    }
    return results as AddResult[];
  }

  async update(id: string, patch: UpdatePatch, options: { reason?: string } = {}): Promise<MemoryRecord> {
    const { store, events, maxContentBytes } = this.context;
    if (options.reason !== undefined && typeof options.reason !== 'string') {
      throw new ValidationError([{ field: 'options.reason', message: 'must be a string' }]);
    }
    const memoryId = validateId(id);
    const parsed = validate(updatePatchSchema, patch, 'patch');
    checkMetadata(parsed.metadata, 'patch.metadata', this.context.metadataLimits);
    const vectorIndex = await this.context.open();
    const [previous] = await store.get([memoryId]);
    if (!previous) throw new NotFoundError('Memory', memoryId);
    const now = new Date(this.context.now());
    const changes: Parameters<MemoryStore['update']>[1] = { updatedAt: now };
    let warning: string | undefined;
    if (parsed.content !== undefined && parsed.content !== previous.content) {
      if (parsed.content.trim().length === 0) throw new ValidationError([{ field: 'patch.content', message: 'is empty: store some text' }]);
      const bytes = Buffer.byteLength(parsed.content, 'utf8');
      if (bytes > maxContentBytes) {
        throw new ValidationError([{ field: 'patch.content', message: `is ${bytes} bytes, over the ${maxContentBytes}-byte limit` }]);
      }
      changes.content = parsed.content;
      changes.contentHash = contentHash(parsed.content);
    }
    if (parsed.type !== undefined) {
      const resolved = this.context.ontology.resolve(parsed.type, 'patch.type');
      if (resolved.warning) warning = resolved.warning;
      changes.type = resolved.type;
      changes.subtype = resolved.subtype;
    }
    if (parsed.tags !== undefined) changes.tags = normaliseTags(parsed.tags);
    if (parsed.metadata !== undefined) changes.metadata = parsed.metadata;
    if (parsed.importance !== undefined) changes.importance = parsed.importance;

    const ownVectors = vectorIndex !== undefined && vectorIndex === store.vectors;
    // An external index keeps a payload copy of filterable fields: refresh it on any change.
    const needsVector = vectorIndex !== undefined && (changes.content !== undefined || !ownVectors);
    const vector = needsVector ? (await this.context.embedding.embedMany([changes.content ?? previous.content]))[0] : undefined;
    const updated = await store.update(memoryId, changes, ownVectors ? vector : undefined, {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    });
    if (!updated) throw new NotFoundError('Memory', memoryId);
    if (vectorIndex && !ownVectors && vector) await vectorIndex.upsert([{ id: memoryId, vector, payload: updated }]);
    this.context.embedding.forgetQueries();
    events.emit('memory:updated', { memory: updated, previous });
    // `update` returns no warnings: the logger and the `warning` event are where they go.
    if (warning !== undefined) events.warn(warning);
    return updated;
  }

  async delete(id: string): Promise<boolean> {
    const { store } = this.context;
    const memoryId = validateId(id);
    const vectorIndex = await this.context.open();
    const [existing] = await store.get([memoryId]);
    if (!existing) return false;
    const deleted = await store.delete(memoryId, new Date(this.context.now()));
    if (!deleted) return false;
    if (vectorIndex && vectorIndex !== store.vectors) await vectorIndex.delete([memoryId]);
    this.context.events.emit('memory:deleted', { id: memoryId, memory: existing });
    return true;
  }
}
