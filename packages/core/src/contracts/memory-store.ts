import type { EmbedderInfo, HistoryEntry, MemoryFilter, MemoryRecord, Relation, RelationChange, Scope } from './model.js';
import type { VectorCollections } from './vector-collections.js';
import type { VectorIndex } from './vector-index.js';

export interface BackupProgress {
  copiedPages: number;
  totalPages: number;
}

export interface BackupOptions {
  /** Replace an existing file at the destination. Default false. */
  overwrite?: boolean;
  /** Called after each copy step (progress bars). */
  onProgress?: (progress: BackupProgress) => void;
}

export interface BackupResult {
  /** Absolute path of the backup written. */
  destination: string;
  pages: number;
  bytes: number;
  /** How many times concurrent writes restarted the copy. */
  restarts: number;
}

export interface ReembedOptions {
  /** Memories embedded per batch (each batch is committed, so a crash loses at most one). Default 256. */
  batchSize?: number;
  /** Called after each batch: memories with a vector from the new embedder, of all live ones. */
  onProgress?: (progress: { embedded: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface ReembedResult {
  from: EmbedderInfo | null;
  to: EmbedderInfo;
  /** Memories embedded by this run. */
  embedded: number;
  /** Memories a previous, interrupted run had already embedded. */
  resumed: number;
  /** Live memories now embedded with `to`. */
  total: number;
}

/**
 * The fields of a memory search reads before it knows which candidates it returns: to filter
 * (every `MemoryFilter` field but `where`), score (`scoreCandidate`), smooth along conversations
 * and apply the relevance floor. See `MemoryStore.getRankingFields`; `RankingRecord` is a record
 * cut to these.
 */
export const rankingRecordFields = [
  'id',
  'content',
  'context',
  'contextSource',
  'type',
  'subtype',
  'tags',
  'scope',
  'conversationId',
  'importance',
  'createdAt',
  'supersededBy',
  'validTo',
  'deletedAt',
  'decayScore',
] as const satisfies ReadonlyArray<keyof MemoryRecord>;

/** A memory's ranking fields (`rankingRecordFields`), what `MemoryStore.getRankingFields` answers. */
export type RankingRecord = Pick<MemoryRecord, (typeof rankingRecordFields)[number]>;

export interface StoreCapabilities {
  /** 'bm25': `lexicalSearch` ranks by a BM25-style score. 'none': no lexical search. */
  readonly lexical: 'bm25' | 'none';
  /** The store indexes vectors itself (`vectors` is set and writes are atomic with records). */
  readonly vectors: boolean;
  /** Several processes may open the same store at once. */
  readonly multiProcess: boolean;
}

/** A record plus, when the store indexes vectors itself, its embedding. */
export interface StoreWrite {
  record: MemoryRecord;
  vector?: Float32Array;
  /** The reason its history entry records (sync writes 'sync'). Default null. */
  reason?: string;
}

/** Options of the graph and delete writes: the reason their change-log entry records. */
export interface ChangeOptions {
  reason?: string;
}

export type WriteStatus = 'created' | 'duplicate' | 'updated';

export interface StoreWriteResult {
  status: WriteStatus;
  /** The stored record: the new one, the existing duplicate, or the updated keyed one. */
  record: MemoryRecord;
}

/** Fields `update` may change. `updatedAt` is always set by the caller. */
export type RecordPatch = Partial<
  Pick<
    MemoryRecord,
    'content' | 'contentHash' | 'type' | 'subtype' | 'tags' | 'metadata' | 'importance' | 'updatedAt' | 'validTo' | 'supersededBy'
  >
> & { updatedAt: Date };

/**
 * One step of `MemoryStore.apply`, each with the meaning of the method of the same name.
 * `update` and `delete` with `required: true` fail the whole batch (NotFoundError, nothing
 * applied) when the id is unknown or deleted; without it they answer null / false as alone.
 */
export type StoreOperation =
  | { kind: 'write'; items: StoreWrite[] }
  | { kind: 'update'; id: string; patch: RecordPatch; vector?: Float32Array; reason?: string; required?: boolean }
  | { kind: 'delete'; id: string; at: Date; required?: boolean; reason?: string }
  | { kind: 'upsertRelation'; relation: Relation; reason?: string }
  | { kind: 'removeRelations'; sourceId: string; targetId: string; type?: string; reason?: string }
  /** `setMeta` inside the batch's transaction (sync writes a replica's applied mark with the operation it marks). */
  | { kind: 'setMeta'; name: string; value: string };

/** What each `StoreOperation` answered, at the same position. */
export type StoreOperationResult =
  | { kind: 'write'; results: StoreWriteResult[] }
  | { kind: 'update'; record: MemoryRecord | null }
  | { kind: 'delete'; deleted: boolean }
  | { kind: 'upsertRelation'; relation: Relation; created: boolean }
  | { kind: 'removeRelations'; removed: Relation[] }
  | { kind: 'setMeta' };

/** Where an erasure came from: this store's own `forget`/retention, or another side of sync. */
export type ErasureOrigin = 'local' | 'sync';

/** One entry of a store's erasure log (see `MemoryStore.appendErasures`): ids only. */
export interface ErasureLogEntry {
  /** The entry's number (1, 2, …), never reused. */
  seq: number;
  ids: string[];
  origin: ErasureOrigin;
  /** When it was appended. */
  at: Date;
}

/** A page of the erasure log (see `MemoryStore.erasuresAfter`). */
export interface ErasureLogPage {
  /** The highest number given so far (0 for an empty log), compacted entries included. */
  head: number;
  /** Entries numbered up to this one were compacted away (0 when none was). */
  horizon: number;
  entries: ErasureLogEntry[];
}

export interface StoreListOptions {
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Also return soft-deleted records (export, audits). Default false. */
  includeDeleted?: boolean;
}

export interface StoreListPage {
  /** Newest first (createdAt, then id, descending). */
  items: MemoryRecord[];
  nextCursor: string | null;
}

export interface StoreStatisticsOptions {
  /** `createdPerDay` counts the records created at or after this instant. */
  createdSince: Date;
  /** `tags` holds at least this many of the most frequent tags (every tag tied with the last one too). */
  tagLimit: number;
}

/** Counts over a set of live records (`MemoryStore.statistics`). Lists are in any order. */
export interface StoreStatistics {
  total: number;
  /** Records with `supersededBy` set. */
  superseded: number;
  byType: Array<{ type: string; count: number }>;
  /** Records without a subtype are left out. */
  bySubtype: Array<{ subtype: string; count: number }>;
  /** `userId: null`: records without one. */
  byUser: Array<{ userId: string | null; count: number }>;
  byAgent: Array<{ agentId: string | null; count: number }>;
  /**
   * Counts per tag: at least every tag counted as often as the `tagLimit`-th most frequent one
   * (all of them will do; core keeps those).
   */
  tags: Array<{ tag: string; count: number }>;
  /** Records created since `createdSince`, by UTC day (days since 1970-01-01) and type. */
  createdPerDay: Array<{ day: number; type: string; count: number }>;
  /** Relations whose source is one of the records. */
  relations: number;
}

/** One entry of the store-wide change log: a memory's history entry, or a graph change. */
export type ChangeLogEntry = (HistoryEntry & { seq: number }) | (RelationChange & { seq: number });

/** A page of the store-wide change log (see `MemoryStore.changesSince`). */
export interface ChangeLogPage {
  /** The highest sequence number written so far (0 for an empty log). */
  head: number;
  entries: ChangeLogEntry[];
}

export interface LexicalMatch {
  id: string;
  /** Higher is better; only the order matters to core. */
  score: number;
}

/**
 * Where memories live. Required methods are what correctness needs.
 *
 * Rules every store follows (the conformance suite checks them):
 * - Soft-deleted records never come back from `get`, `list`, `count`, `lexicalSearch` or vector search.
 * - Filters apply inside each query, before any limit.
 * - `write` is atomic: every item (record, text index, vector) lands, or none does.
 */
export interface MemoryStore {
  readonly specificationVersion: 'v1';
  /** Short name for logs and errors, e.g. 'sqlite', 'memory'. */
  readonly name: string;
  /** Where the data lives, for messages (a file path, a redacted URL). */
  readonly location?: string;
  readonly capabilities: StoreCapabilities;
  /** Present when the store indexes vectors itself (`capabilities.vectors`). */
  readonly vectors?: VectorIndex;
  /**
   * Optional: raw-vector collections kept in the same database (caller-supplied vectors with
   * metadata, for frameworks that bring their own embeddings; see `VectorCollections`).
   */
  readonly collections?: VectorCollections;

  /** Opens connections and runs migrations. Idempotent. */
  open(): Promise<void>;
  close(): Promise<void>;

  /** The embedder the store was built with, or null for a new store. */
  getEmbedder(): Promise<EmbedderInfo | null>;
  /** Records the embedder (first use). */
  setEmbedder(info: EmbedderInfo): Promise<void>;

  /**
   * Writes records in one transaction. Per item, in order, inside the transaction:
   * - a live record with the same `key` in the same scope (all three scope fields equal) is
   *   updated in place (content, hash, type, subtype, tags, metadata, importance, updatedAt,
   *   vector) and returned with status 'updated' (or 'duplicate' when its content hash,
   *   tags, metadata, type and importance are all unchanged);
   * - otherwise, for an item without a key, a live record with the same `contentHash` in the
   *   same scope is returned with status 'duplicate' and nothing is written (a keyed item is an
   *   upsert by its key: it is never deduped by content onto another record, keyed or not);
   * - otherwise the record is inserted ('created').
   * Items within one call are checked against each other too. Each 'created' or 'updated' item
   * appends its history entry in the same transaction.
   */
  write(items: StoreWrite[]): Promise<StoreWriteResult[]>;

  /**
   * Optional: several operations in one transaction — all of them land, or none does (a failure
   * half-way rolls back the ones before it). Operations run in order and each sees the ones before
   * it. An id a `write` item gave its record, when that item resolved to another record (a
   * duplicate, or the keyed record it updated), stands for that record in every later operation
   * (update and delete ids, a patch's `supersededBy`, relation ends), so a batch can link what it writes. Vectors are checked
   * before anything is written. Core applies an inference plan and a document re-ingest with it;
   * without it, they run one store call at a time (a failure can leave part applied).
   */
  apply?(operations: StoreOperation[]): Promise<StoreOperationResult[]>;

  /** Live records with these hashes in this scope (a pre-check so core can skip embedding). */
  findByHashes(scope: Scope, hashes: string[]): Promise<MemoryRecord[]>;

  /**
   * Optional: `findByHashes` for several scopes in one call (`addMany`'s pre-check: one round trip
   * for a batch over many users instead of one a scope). Answer `i` is what
   * `findByHashes(groups[i].scope, groups[i].hashes)` answers. Without it, core calls `findByHashes`
   * once a scope.
   */
  findByHashesInScopes?(groups: Array<{ scope: Scope; hashes: string[] }>): Promise<MemoryRecord[][]>;

  /**
   * Updates a live record (and its vector when given) atomically, with its history entry
   * ('superseded' when the patch sets `supersededBy`, else 'updated'); null when unknown or deleted.
   */
  update(id: string, patch: RecordPatch, vector?: Float32Array, options?: { reason?: string }): Promise<MemoryRecord | null>;

  /** Live records with these ids, in any order; unknown and deleted ids are left out. */
  get(ids: string[]): Promise<MemoryRecord[]>;

  /**
   * Optional: as `get`, but only the fields search ranks, filters (all but `where`) and smooths
   * candidates on (`RankingRecord`), each equal to the field `get` answers. Search reads its
   * ~40–80 candidates this way and full records only for the hits it returns; without it, search
   * reads every candidate with `get`. A store may answer the same record object again while
   * the memory's fields stand still (SQLite does, so search can remember what it derived from
   * one): callers read these records and never change them.
   */
  getRankingFields?(ids: string[]): Promise<RankingRecord[]>;

  list(filter: MemoryFilter, options: StoreListOptions): Promise<StoreListPage>;
  count(filter: MemoryFilter): Promise<number>;

  /**
   * Optional: the distinct JSON values of the metadata field at `path` (object keys, never array
   * indexes, as `Condition` paths) among the live records matching `filter`, in any order. Records
   * without the field are left out; a JSON `null` is a value. Two values are the same when their
   * JSON is (arrays and scalars; objects compare by their stored JSON text on SQLite). Without it,
   * core reads every matching record (`memory.distinct`).
   */
  distinctMetadata?(path: readonly string[], filter: MemoryFilter): Promise<unknown[]>;

  /**
   * Optional: counts over the live records matching `filter` (see `StoreStatistics`), from
   * aggregate queries. Without it, core reads every matching record (`memory.statistics`).
   */
  statistics?(filter: MemoryFilter, options: StoreStatisticsOptions): Promise<StoreStatistics>;

  /** Soft delete (sets deletedAt, drops the vector, appends 'deleted' history); false when unknown or already deleted. */
  delete(id: string, at: Date, options?: ChangeOptions): Promise<boolean>;

  /**
   * Best lexical matches for free text among records matching the filter, best first.
   * The query is user text: quotes, operators, `*`, parentheses and very long strings must
   * never raise. Required when `capabilities.lexical` is 'bm25'.
   */
  lexicalSearch?(query: string, filter: MemoryFilter, limit: number): Promise<LexicalMatch[]>;

  /**
   * Sets (or, with `null`, removes) the derived context of live records whose context is absent
   * or derived (`contextSource: 'conversation'`), marking it derived; a record with a caller's
   * context, an unknown id or a deleted record is left alone. Re-indexes the text; writes no
   * history entry and leaves `updatedAt` alone (the context is an index aid, not the memory).
   * One transaction. Answers how many records changed. Optional: without it, Engram derives
   * conversation context for new memories only and `reindex --context` is unavailable.
   */
  setDerivedContexts?(items: Array<{ id: string; context: string | null }>): Promise<number>;

  // ------------------------------------------------------------------ graph

  /**
   * Inserts the edge keyed by (sourceId, targetId, type), or updates weight, confidence,
   * metadata, inferred and updatedAt of the existing one (keeping its createdAt).
   * Core stores symmetric types once, with sourceId < targetId. Appends a 'relation:added'
   * change-log entry (see `changesSince`) in the same transaction.
   */
  upsertRelation(relation: Relation, options?: ChangeOptions): Promise<{ relation: Relation; created: boolean }>;

  /**
   * Removes the edges from source to target (of this type, or of every type); returns them.
   * Appends a 'relation:removed' change-log entry per edge removed, in the same transaction.
   */
  removeRelations(sourceId: string, targetId: string, type?: string, options?: ChangeOptions): Promise<Relation[]>;

  /**
   * Edges touching any of these ids — 'out': they are the source; 'in': the target; 'both':
   * either — optionally of these types, oldest first. Edges are returned whatever the state of
   * the memories at their ends: core decides what a traversal may cross.
   */
  relationsOf(ids: string[], options: { direction: 'out' | 'in' | 'both'; types?: string[] }): Promise<Relation[]>;

  /** Every history entry of a memory (deleted ones included), oldest first; graph changes are left out. */
  history(id: string): Promise<HistoryEntry[]>;

  /**
   * Optional: the store-wide change log after sequence number `after`, in sequence order, at
   * most `limit`, whichever process wrote it: every memory's history entries (created, updated,
   * superseded, deleted) and every graph change (`relation:added`, `relation:removed`), numbered
   * from one sequence. `after: null` returns no entries, only the current `head`. Servers read
   * it to stream other processes' writes; sync reads it to push local writes and serve pulls.
   * `purge` removes the entries of the memories it erases (and of edges touching them).
   */
  changesSince?(after: number | null, limit: number): Promise<ChangeLogPage>;

  /**
   * Optional: small named values a capability keeps with the store (sync's cursors and replica
   * id), written on their own. Null when never set. Sync needs them to remember where it is.
   */
  getMeta?(name: string): Promise<string | null>;
  setMeta?(name: string, value: string): Promise<void>;

  /**
   * Optional (sync needs it): sync's erasure log, the erased ids kept beside the change log
   * (`purge` takes a memory's change-log entries with it). Appends the entries in one
   * transaction, numbered from one sequence after every entry before — whichever process
   * appends, no two entries ever share a number, and an entry is visible with its number (a
   * reader never sees number n+1 before n). Answers their numbers, in order.
   */
  appendErasures?(entries: Array<{ ids: string[]; origin: ErasureOrigin }>, at: Date): Promise<number[]>;
  /** The erasure log after number `after`, oldest first, at most `limit` entries, with its head and horizon. */
  erasuresAfter?(after: number, limit: number): Promise<ErasureLogPage>;
  /**
   * Removes the oldest erasure-log entries: those numbered up to `through` appended before
   * `before`, stopping at the first that is not (so what is removed is always a prefix and the
   * horizon is one number). Answers how many were removed.
   */
  compactErasures?(through: number, before: Date): Promise<number>;

  /**
   * Adds one to accessCount per occurrence of an id (`[a, a, b]` adds two to a) and sets
   * lastAccessedAt, in one batched write that re-indexes nothing. Unknown ids are ignored.
   */
  recordAccess(ids: string[], at: Date): Promise<void>;

  /**
   * Erasure (hard delete): removes the records with these ids whatever their state (live,
   * superseded or soft-deleted) together with everything derived from them — tags, history
   * entries, edges touching them, vectors, text-index entries and persisted index snapshots —
   * in one transaction, then reclaims the space so the bytes are gone from the files (SQLite:
   * VACUUM and a WAL checkpoint; Postgres: VACUUM). Unknown ids are ignored. Answers how many
   * records were removed. `memory.forget` needs it; a store without it cannot erase.
   */
  purge?(ids: string[]): Promise<number>;

  /**
   * A consistent copy of the whole store in one file, taken while other connections keep
   * writing (SQLite: the online backup API). Stores backed by a server leave it out and
   * document their own tools (Postgres: pg_dump).
   */
  backup?(destination: string, options?: BackupOptions): Promise<BackupResult>;

  /**
   * Replaces the stored (encrypted) content, context and/or metadata of a record in any state,
   * with no history entry and nothing else changed: the same values re-wrapped under another key
   * (`memory.rotateEncryption`). False when the id is unknown.
   */
  rewrapContent?(id: string, texts: { content?: string; context?: string; metadata?: Record<string, unknown> }): Promise<boolean>;

  /**
   * Replaces every vector with one from another embedder, resumably: old vectors serve searches
   * until one atomic switch, which also records `target` as the store's embedder.
   */
  reembed?(target: EmbedderInfo, embed: (texts: string[]) => Promise<Float32Array[]>, options?: ReembedOptions): Promise<ReembedResult>;

  /**
   * Optional: stores each memory's consolidation decay score (`MemoryRecord.decayScore`) in one
   * batched write that re-indexes nothing and appends no history. Unknown and deleted ids are
   * ignored. Without it, consolidation reports scores but search cannot use them.
   */
  recordDecayScores?(scores: Array<{ id: string; score: number }>, at: Date): Promise<void>;
}
