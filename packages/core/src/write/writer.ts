import type { MemoryStore, RecordPatch, StoreOperation, StoreWrite, StoreWriteResult, WriteStatus } from '../contracts/memory-store.js';
import type { MemoryRecord, Scope } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { ContextRepair, ConversationContext } from '../conversation/conversation-context.js';
import type { Embedding } from '../embedding/embedding.js';
import type { Encryption } from '../encryption/encryption.js';
import { isEnvelope } from '../encryption/envelope.js';
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

/** `addMany` up to its store write (see `Writer.prepareAdd`). */
export interface PreparedAdd {
  /** By input position: the answers known before writing (stored duplicates); the rest come from the write. */
  results: Array<AddResult | undefined>;
  /** The inputs to write, with their input position and (when embedded) vector. */
  toWrite: Array<{ index: number; record: MemoryRecord; warnings: string[]; vector?: Float32Array | undefined }>;
  /** The store write to make: one item per `toWrite` entry. */
  writes: StoreWrite[];
  /**
   * By input position: the id the memory has (a stored duplicate's) or will have (the new record's;
   * inside a `MemoryStore.apply` batch the store reads it as whatever the write resolves it to).
   */
  ids: string[];
  vectorIndex: VectorIndex | undefined;
  ownVectors: boolean;
  repair?: { conversation: ConversationContext; repair: ContextRepair };
}

/** `update` up to its store call (see `Writer.prepareUpdate`). */
export interface PreparedUpdate {
  /** The store update to make (alone, or inside a `MemoryStore.apply` batch). */
  operation: Extract<StoreOperation, { kind: 'update' }>;
  previous: MemoryRecord;
  warning?: string;
  /** A separate vector index to refresh after the store write. */
  external?: { index: VectorIndex; vector: Float32Array };
}

export interface WriterContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use, if any. */
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  encryption: Encryption;
  ontology: Ontology;
  events: EventHub;
  dedup: ResolvedDedupOptions;
  maxContentBytes: number;
  metadataLimits: ResolvedMetadataLimits;
  now: () => number;
  /** Derives conversation context for new conversation memories (off when absent or disabled). */
  conversationContext?: ConversationContext | undefined;
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
    const prepared = await this.prepareAdd(inputs, root);
    const written = prepared.writes.length > 0 ? await this.context.store.write(prepared.writes) : [];
    return this.finishAdd(prepared, written);
  }

  /**
   * Everything `addMany` does before its store write: validation, the exact-duplicate pre-check,
   * embedding, the near-duplicate check, sealing. Writes nothing: `writes` is the store write to
   * make (alone, or inside a `MemoryStore.apply` batch), then `finishAdd` with its results.
   */
  async prepareAdd(inputs: AddInput[], root: string): Promise<PreparedAdd> {
    const { store } = this.context;
    if (!Array.isArray(inputs)) throw new ValidationError([{ field: root, message: 'must be an array of memories' }]);
    const prepared = inputs.map((input, index) => newRecord(input, root === 'input' ? '' : `${root}.${index}`, this.context));
    const vectorIndex = await this.context.open();
    const results: Array<AddResult | undefined> = new Array(prepared.length);
    const ownVectors = vectorIndex !== undefined && vectorIndex === store.vectors;
    const empty: PreparedAdd = { results, toWrite: [], writes: [], ids: [], vectorIndex, ownVectors };
    if (prepared.length === 0) return empty;
    const { encryption } = this.context;
    // Sensitive memories dedupe on a keyed hash (a plain sha256 would confirm guessed texts).
    for (const item of prepared) if (item.sensitive) item.record.contentHash = await encryption.hash(item.record.content);
    const sensitiveIds = new Set(prepared.filter((item) => item.sensitive).map((item) => item.record.id));
    const wantsVector = (record: MemoryRecord) => !sensitiveIds.has(record.id) || encryption.embedSensitive;

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
    // One call for every scope when the store has it (one round trip on a server), else one a scope.
    const groups = [...byScope.values()];
    const found: MemoryRecord[][] = [];
    if (groups.length > 0 && store.findByHashesInScopes) found.push(...(await store.findByHashesInScopes(groups)));
    else for (const group of groups) found.push(await store.findByHashes(group.scope, group.hashes));
    [...byScope.keys()].forEach((key, index) => {
      for (const existing of found[index] ?? []) existingByKey.set(`${key}|${existing.contentHash}`, existing);
    });

    const toWrite: PreparedAdd['toWrite'] = [];
    prepared.forEach(({ record, warnings }, index) => {
      const existing = record.key === null ? existingByKey.get(`${scopeKey(record.scope)}|${record.contentHash}`) : undefined;
      if (existing) results[index] = { memory: existing, status: 'duplicate', warnings };
      else toWrite.push({ index, record, warnings });
    });
    if (toWrite.length === 0) return { ...empty, ids: results.map((result) => result?.memory.id ?? '') };

    const conversation = this.context.conversationContext?.enabled ? this.context.conversationContext : undefined;
    const repair = conversation
      ? await conversation.prepare(
          toWrite.map((item) => item.record),
          sensitiveIds,
        )
      : undefined;
    // Sensitive content is embedded (before encryption) only with `encryption.embedSensitive`.
    let vectors: Array<Float32Array | undefined> | undefined;
    if (vectorIndex) {
      const embedPositions = toWrite.flatMap((item, position) => (wantsVector(item.record) ? [position] : []));
      const embedded = await this.context.embedding.embedMany(
        embedPositions.map((position) => (toWrite[position] as (typeof toWrite)[number]).record.content),
      );
      vectors = toWrite.map(() => undefined);
      embedPositions.forEach((position, index) => {
        (vectors as Array<Float32Array | undefined>)[position] = embedded[index];
      });
    }
    if (this.context.dedup.semantic && vectorIndex && vectors) {
      for (let position = toWrite.length - 1; position >= 0; position--) {
        const item = toWrite[position] as (typeof toWrite)[number];
        // A keyed add is an upsert by key: never folded into another memory by meaning either.
        if (item.record.conversationId !== null || item.record.key !== null || vectors[position] === undefined) continue;
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
    const writes: StoreWrite[] = [];
    for (const [position, item] of toWrite.entries()) {
      const vector = vectors?.[position];
      item.vector = vector;
      writes.push({
        record: sensitiveIds.has(item.record.id) ? await encryption.seal(item.record) : item.record,
        ...(ownVectors && vector ? { vector } : {}),
      });
    }
    const ids = results.map((result) => result?.memory.id ?? '');
    for (const item of toWrite) ids[item.index] = item.record.id;
    return {
      results,
      toWrite,
      writes,
      ids,
      vectorIndex,
      ownVectors,
      ...(conversation && repair ? { repair: { conversation, repair } } : {}),
    };
  }

  /** What follows `prepareAdd`'s store write: external vectors, events, auto-links; the answers in input order. */
  async finishAdd(prepared: PreparedAdd, written: StoreWriteResult[]): Promise<AddResult[]> {
    const { events, encryption } = this.context;
    const { results, toWrite, vectorIndex, ownVectors } = prepared;
    if (toWrite.length > 0) {
      if (vectorIndex && !ownVectors) {
        const upserts = written.flatMap((result, position) => {
          const vector = toWrite[position]?.vector;
          return result.status === 'duplicate' || !vector ? [] : [{ id: result.record.id, vector, payload: result.record }];
        });
        if (upserts.length > 0) await vectorIndex.upsert(upserts);
      }
      const revealed: StoreWriteResult[] = [];
      for (const result of written) revealed.push({ status: result.status, record: await encryption.reveal(result.record) });
      revealed.forEach((result, position) => {
        const item = toWrite[position] as (typeof toWrite)[number];
        results[item.index] = { memory: result.record, status: result.status, warnings: item.warnings };
      });
      if (prepared.repair)
        await prepared.repair.conversation.repair(
          prepared.repair.repair,
          written.filter((result) => result.status === 'created').map((result) => result.record),
        );
      this.context.embedding.forgetQueries();
      for (const result of revealed) {
        if (result.status !== 'duplicate') events.emit('memory:added', { memory: result.record, status: result.status });
      }
      const onCreated = this.context.onCreated;
      if (onCreated) {
        for (const result of revealed) if (result.status === 'created' && !result.record.sensitive) await onCreated(result.record);
      }
    }
    for (const result of results as AddResult[]) result.memory = await encryption.reveal(result.memory);
    // The caller has them in `warnings` too, so they go to listeners only (not the logger).
    for (const result of results as AddResult[]) {
      for (const message of result.warnings) events.emit('warning', { message });
    }
    return results as AddResult[];
  }

  async update(id: string, patch: UpdatePatch, options: { reason?: string } = {}): Promise<MemoryRecord> {
    const prepared = await this.prepareUpdate(id, patch, options);
    const { operation } = prepared;
    const written = await this.context.store.update(operation.id, operation.patch, operation.vector, {
      ...(operation.reason !== undefined ? { reason: operation.reason } : {}),
    });
    return this.finishUpdate(prepared, written);
  }

  /** Everything `update` does before its store call (validation, sealing, embedding); writes nothing. */
  async prepareUpdate(id: string, patch: UpdatePatch, options: { reason?: string } = {}): Promise<PreparedUpdate> {
    const { store, maxContentBytes } = this.context;
    if (options.reason !== undefined && typeof options.reason !== 'string') {
      throw new ValidationError([{ field: 'options.reason', message: 'must be a string' }]);
    }
    const memoryId = validateId(id);
    const parsed = validate(updatePatchSchema, patch, 'patch');
    checkMetadata(parsed.metadata, 'patch.metadata', this.context.metadataLimits);
    const vectorIndex = await this.context.open();
    const [stored] = await store.get([memoryId]);
    if (!stored) throw new NotFoundError('Memory', memoryId);
    const { encryption } = this.context;
    const sensitive = isEnvelope(stored.content);
    const previous = await encryption.reveal(stored);
    const now = new Date(this.context.now());
    const changes: RecordPatch = { updatedAt: now };
    let warning: string | undefined;
    if (parsed.content !== undefined && parsed.content !== previous.content) {
      if (parsed.content.trim().length === 0) throw new ValidationError([{ field: 'patch.content', message: 'is empty: store some text' }]);
      const bytes = Buffer.byteLength(parsed.content, 'utf8');
      if (bytes > maxContentBytes) {
        throw new ValidationError([{ field: 'patch.content', message: `is ${bytes} bytes, over the ${maxContentBytes}-byte limit` }]);
      }
      changes.content = sensitive ? await encryption.sealText(parsed.content) : parsed.content;
      changes.contentHash = sensitive ? await encryption.hash(parsed.content) : contentHash(parsed.content);
    }
    if (parsed.type !== undefined) {
      const resolved = this.context.ontology.resolve(parsed.type, 'patch.type');
      if (resolved.warning) warning = resolved.warning;
      changes.type = resolved.type;
      changes.subtype = resolved.subtype;
    }
    if (parsed.tags !== undefined) changes.tags = normaliseTags(parsed.tags);
    if (parsed.metadata !== undefined) changes.metadata = sensitive ? await encryption.sealMetadata(parsed.metadata) : parsed.metadata;
    if (parsed.importance !== undefined) changes.importance = parsed.importance;

    const ownVectors = vectorIndex !== undefined && vectorIndex === store.vectors;
    // An external index keeps a payload copy of filterable fields: refresh it on any change.
    const needsVector =
      vectorIndex !== undefined && (changes.content !== undefined || !ownVectors) && (!sensitive || encryption.embedSensitive);
    const vector = needsVector ? (await this.context.embedding.embedMany([parsed.content ?? previous.content]))[0] : undefined;
    return {
      operation: {
        kind: 'update',
        id: memoryId,
        patch: changes,
        ...(ownVectors && vector ? { vector } : {}),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
        required: true,
      },
      previous,
      ...(warning !== undefined ? { warning } : {}),
      ...(vectorIndex && !ownVectors && vector ? { external: { index: vectorIndex, vector } } : {}),
    };
  }

  /** What follows `prepareUpdate`'s store call: the external vector, the event; the revealed record. */
  async finishUpdate(prepared: PreparedUpdate, written: MemoryRecord | null): Promise<MemoryRecord> {
    const { events, encryption } = this.context;
    if (!written) throw new NotFoundError('Memory', prepared.operation.id);
    const updated = await encryption.reveal(written);
    if (prepared.external) await prepared.external.index.upsert([{ id: written.id, vector: prepared.external.vector, payload: written }]);
    this.context.embedding.forgetQueries();
    events.emit('memory:updated', { memory: updated, previous: prepared.previous });
    // `update` returns no warnings: the logger and the `warning` event are where they go.
    if (prepared.warning !== undefined) events.warn(prepared.warning);
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
    await this.finishDelete(existing, vectorIndex);
    return true;
  }

  /** What follows a soft delete in the store: the external vector goes, `memory:deleted` is emitted. */
  async finishDelete(existing: MemoryRecord, vectorIndex: VectorIndex | undefined): Promise<void> {
    if (vectorIndex && vectorIndex !== this.context.store.vectors) await vectorIndex.delete([existing.id]);
    this.context.events.emit('memory:deleted', { id: existing.id, memory: await this.context.encryption.reveal(existing) });
  }
}
